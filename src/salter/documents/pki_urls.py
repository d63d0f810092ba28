from django.urls import path

from salter.documents import pki_views

app_name = "pki"

urlpatterns = [
    path("crl/<slug:ca>.crl", pki_views.crl, name="crl"),
    path("ca/<slug:ca>.crt", pki_views.ca_certificate, name="ca_certificate"),
    path("tsa", pki_views.tsa, name="tsa"),
]
