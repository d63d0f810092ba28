"""The catalogue on the official's side (under /official/, behind the second-factor gate):
the service generator and its live preview."""

from django.urls import path

from salter.catalog import editor_views, views

VERSION = "catalog/services/<id:service_id>/versions/<id:number>/"

urlpatterns = [
    path("catalog/services/", editor_views.service_list, name="catalog_services"),
    path("catalog/services/new/", editor_views.service_create, name="catalog_service_new"),
    path(
        "catalog/services/<id:service_id>/",
        editor_views.service_detail,
        name="catalog_service",
    ),
    path(
        "catalog/services/<id:service_id>/import/",
        editor_views.service_import,
        name="catalog_import",
    ),
    path(VERSION, editor_views.version_detail, name="catalog_version"),
    path(f"{VERSION}edit/", editor_views.version_edit, name="catalog_edit"),
    path(f"{VERSION}publish/", editor_views.version_publish, name="catalog_publish"),
    path(f"{VERSION}new-draft/", editor_views.version_new_draft, name="catalog_new_draft"),
    path(f"{VERSION}export.json", editor_views.version_export, name="catalog_export"),
    path(f"{VERSION}diagram.svg", editor_views.version_diagram, name="catalog_diagram"),
    path(f"{VERSION}workflow.bpmn", editor_views.version_bpmn, name="catalog_bpmn"),
    path(f"{VERSION}preview/", views.preview, name="catalog_preview"),
]
