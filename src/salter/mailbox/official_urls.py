"""Included under /official/ (namespace "official")."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
