"""The case's documents, under the case's own addresses (``/cases/<id>/documents/…`` and
``/official/cases/<id>/documents/…``), added to the case pages' routes through the engine's
seam (:func:`salter.cases.listeners.route`) when the app is ready."""

from django.urls import path

from salter.cases import listeners
from salter.documents import case_views

listeners.route(
    "applicant",
    path(
        "cases/<id:case_id>/documents/<id:document_id>/",
        case_views.applicant_download,
        name="document",
    ),
)
listeners.route(
    "official",
    path(
        "<id:case_id>/documents/<id:document_id>/v<id:number>/",
        case_views.official_download,
        name="case_document",
    ),
)
