"""Public endpoints of the development PKI: CRLs, CA certificates, the RFC 3161 TSA.

Anyone validating a signature must be able to fetch these without an account."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from salter.documents import pki, signing

# A timestamp request is a digest and a few fields: a few hundred bytes.
_MAX_TSA_REQUEST = 4096


def _pki_or_404() -> None:
    if not pki.exists():
        raise Http404("no development PKI")


@require_GET
def crl(request: HttpRequest, ca: str) -> HttpResponse:
    _pki_or_404()
    if ca not in pki.CAS:
        raise Http404("no such CA")
    response = HttpResponse(pki.crl(ca), content_type="application/pkix-crl")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def ca_certificate(request: HttpRequest, ca: str) -> HttpResponse:
    _pki_or_404()
    if ca not in pki.CAS:
        raise Http404("no such CA")
    from cryptography.hazmat.primitives.serialization import Encoding

    der = pki.ca_certificate(ca).public_bytes(Encoding.DER)
    response = HttpResponse(der, content_type="application/pkix-cert")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@csrf_exempt  # a machine protocol (RFC 3161 over HTTP), no cookies, no session
@require_POST
def tsa(request: HttpRequest) -> HttpResponse:
    if not settings.SALTER_TSA_SERVE:
        raise Http404("no timestamp authority here")
    _pki_or_404()
    if request.content_type != "application/timestamp-query":
        return HttpResponse("expects application/timestamp-query", status=415)
    body = request.body
    if not body or len(body) > _MAX_TSA_REQUEST:
        return HttpResponse("empty or oversized request", status=400)
    return HttpResponse(
        signing.answer_timestamp_request(body), content_type="application/timestamp-reply"
    )
