"""The citizen's pages of their data, mounted at /my/data/."""

from django.urls import path

from salter.exchange import views

app_name = "exchange"

urlpatterns = [
    path("", views.access_log, name="access_log"),
    path("export.json", views.export_json, name="export_json"),
    path("export.pdf", views.export_pdf, name="export_pdf"),
]
