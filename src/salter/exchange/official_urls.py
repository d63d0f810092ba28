"""The official's decisions about a case's evidence, mounted at /official/evidence/."""

from django.urls import path

from salter.exchange import evidence_views

app_name = "evidence"

urlpatterns = [
    path("<id:evidence_id>/ask-again/", evidence_views.ask_again, name="ask_again"),
    path("<id:evidence_id>/brought/", evidence_views.brought, name="brought"),
    path("<id:evidence_id>/without/", evidence_views.without, name="without"),
]
