"""The catalogue on the official's side (under /official/, behind the second-factor gate)."""

from django.urls import path

from salter.catalog import views

urlpatterns = [
    path(
        "catalog/services/<int:service_id>/versions/<int:number>/preview/",
        views.preview,
        name="catalog_preview",
    ),
]
