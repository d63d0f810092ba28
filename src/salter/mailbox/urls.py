"""The citizen's e-mailbox, mounted at /mailbox/."""

from django.urls import path

from salter.mailbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("write/", views.write, name="write"),
    path("consent/", views.consent, name="consent"),
    path("consent/<id:consent_id>/revoke/", views.revoke, name="consent_revoke"),
    path("<id:message_id>/", views.message_detail, name="message"),
    path("<id:message_id>/answer/", views.answer, name="answer"),
    path("<id:message_id>/document/", views.document, name="document"),
    path("<id:message_id>/document/<id:number>/", views.document, name="document_version"),
    path(
        "<id:message_id>/evidence/<id:seq>.<slug:fmt>",
        views.evidence,
        name="evidence",
    ),
]
