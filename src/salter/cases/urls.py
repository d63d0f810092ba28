from django.urls import path

from salter.cases import listeners, views

app_name = "cases"

urlpatterns = [
    path("services/<slug:authority>/<slug:code>/apply/", views.apply, name="apply"),
    path("cases/", views.my_cases, name="list"),
    path("cases/<id:case_id>/", views.case_detail, name="detail"),
    path("cases/<id:case_id>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<id:case_id>/steps/<slug:transition_id>/", views.take, name="take"),
    # The apps' pages under a case's address (its documents): salter.cases.listeners.route.
    *listeners.routes("applicant"),
]
