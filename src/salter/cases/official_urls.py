"""The officials' pages of cases, included under /official/cases/."""

from django.urls import path

from salter.cases import grant_views, listeners, official_views

urlpatterns = [
    path("queue/", official_views.queue, name="case_queue"),
    path("escalated/", official_views.escalated, name="case_escalated"),
    path("<id:case_id>/", official_views.case_detail, name="case"),
    path(
        "<id:case_id>/steps/<slug:transition_id>/",
        official_views.take,
        name="case_take",
    ),
    path("<id:case_id>/claim/", official_views.claim, name="case_claim"),
    path("<id:case_id>/release/", official_views.release, name="case_release"),
    path("<id:case_id>/assign/", official_views.assign, name="case_assign"),
    path("<id:case_id>/comments/", official_views.comment, name="case_comment"),
    path("<id:case_id>/access/", grant_views.access, name="case_access"),
    path(
        "<id:case_id>/access/<id:grant_id>/revoke/",
        grant_views.revoke,
        name="case_access_revoke",
    ),
    # The apps' pages under a case's address (its documents): salter.cases.listeners.route.
    *listeners.routes("official"),
]
