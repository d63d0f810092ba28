"""The public verification pages, included under /verify/ (the address in every QR code)."""

from django.urls import path

from salter.documents import verify_views

app_name = "verify"

urlpatterns = [
    path("", verify_views.start, name="start"),
    path("<str:code>/", verify_views.by_code, name="code"),
    path("<str:code>/document.pdf", verify_views.download, name="download"),
]
