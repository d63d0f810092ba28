"""The registry clerk's pages, included under /official/registry/."""

from django.urls import path

from salter.documents import official_views

urlpatterns = [
    path("", official_views.book, name="registry"),
    path("new/", official_views.register, name="registry_new"),
    path("<id:document_id>/", official_views.entry, name="registry_entry"),
    path("<id:document_id>/versions/", official_views.add_version, name="registry_add_version"),
    path(
        "<id:document_id>/versions/<id:number>/file/",
        official_views.download,
        name="registry_download",
    ),
    path("<id:document_id>/void/", official_views.void, name="registry_void"),
    path(
        "export/<slug:which>.<slug:fmt>",
        official_views.export,
        name="registry_export",
    ),
]
