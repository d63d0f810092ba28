"""The citizen's e-mailbox, mounted at /mailbox/."""

from django.urls import path

from salter.mailbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("write/", views.write, name="write"),
    path("consent/", views.consent, name="consent"),
    path("consent/<int:consent_id>/revoke/", views.revoke, name="consent_revoke"),
    path("<int:message_id>/", views.message_detail, name="message"),
    path("<int:message_id>/answer/", views.answer, name="answer"),
    path("<int:message_id>/document/", views.document, name="document"),
    path("<int:message_id>/document/<int:number>/", views.document, name="document_version"),
    path(
        "<int:message_id>/evidence/<int:seq>.<slug:fmt>",
        views.evidence,
        name="evidence",
    ),
]
