"""The registry clerk's pages, included under /official/registry/."""

from django.urls import path

from salter.documents import official_views

urlpatterns = [
    path("", official_views.book, name="registry"),
    path("new/", official_views.register, name="registry_new"),
    path("<int:document_id>/", official_views.entry, name="registry_entry"),
    path("<int:document_id>/versions/", official_views.add_version, name="registry_add_version"),
    path(
        "<int:document_id>/versions/<int:number>/file/",
        official_views.download,
        name="registry_download",
    ),
    path("<int:document_id>/void/", official_views.void, name="registry_void"),
    path(
        "export/<slug:which>.<slug:fmt>",
        official_views.export,
        name="registry_export",
    ),
]
