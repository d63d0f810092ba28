from django.urls import include, path

from salter.identity import official_views

app_name = "official"

urlpatterns = [
    path("", official_views.dashboard, name="dashboard"),
    path("delegations/", official_views.delegations, name="delegations"),
    path(
        "delegations/<id:delegation_id>/revoke/",
        official_views.revoke_delegation,
        name="delegation_revoke",
    ),
    path("", include("salter.catalog.official_urls")),
    path("cases/", include("salter.cases.official_urls")),
    path("registry/", include("salter.documents.official_urls")),
    path("mailbox/", include("salter.mailbox.official_urls")),
    path("payments/", include("salter.payments.official_urls")),
]
