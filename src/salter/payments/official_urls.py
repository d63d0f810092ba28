"""The officials' payment pages, included under /official/payments/ (namespace "official")."""

from django.urls import path

from salter.payments import official_views

urlpatterns = [
    path("", official_views.due, name="payments"),
    path("unmatched/", official_views.unmatched, name="payments_unmatched"),
    path("import/", official_views.import_statement, name="payments_import"),
    path("orders/<id:order_id>/", official_views.order, name="payments_order"),
]
