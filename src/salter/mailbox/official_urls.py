"""The officials' e-mailbox pages. Included under /official/ (namespace "official")."""

from django.urls import path

from salter.mailbox import official_views

urlpatterns = [
    path("", official_views.letters, name="mailbox_letters"),
    path("letters/<id:message_id>/", official_views.letter, name="mailbox_letter"),
    path(
        "letters/<id:message_id>/files/<id:number>/",
        official_views.letter_file,
        name="mailbox_letter_file",
    ),
    path("deliveries/", official_views.delivery_list, name="mailbox_deliveries"),
    path(
        "deliveries/<id:delivery_id>/",
        official_views.delivery_detail,
        name="mailbox_delivery",
    ),
    path(
        "deliveries/<id:delivery_id>/act/",
        official_views.delivery_act,
        name="mailbox_delivery_act",
    ),
    path(
        "deliveries/<id:delivery_id>/postal/",
        official_views.record_postal,
        name="mailbox_delivery_postal",
    ),
    path(
        "deliveries/<id:delivery_id>/evidence/<id:seq>.<slug:fmt>",
        official_views.delivery_evidence,
        name="mailbox_delivery_evidence",
    ),
]
