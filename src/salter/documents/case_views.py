"""The acts of a case, on the case pages: the applicant downloads what was issued to them, the
officials of the authority every version (drafts for review included). Each download by an
official is a read of personal data and is written to the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from salter.cases import access
from salter.core.context import Actor
from salter.documents.models import Document, DocumentVersion
from salter.documents.queries import ISSUED_KINDS
from salter.documents.services import file_response, read_version
from salter.exchange import reads
from salter.identity import loa
from salter.identity.models import User


def _case_document(request: HttpRequest, case_id: int, document_id: int) -> tuple[Document, bool]:
    user = request.user
    assert isinstance(user, User)
    found = access.visible_case(case_id, user)
    if found is None:
        raise Http404
    case, as_official = found
    document = Document.objects.filter(pk=document_id, case=case).first()
    if document is None:
        raise Http404
    document.case = case  # the case in hand, with the grant (if any) it was seen under
    return document, as_official


@login_required
@require_GET
def applicant_download(request: HttpRequest, case_id: int, document_id: int) -> HttpResponseBase:
    """The issued (signed or sealed) act, for the applicant; drafts are the authority's."""
    document, as_official = _case_document(request, case_id, document_id)
    if as_official or document.issued_at is None or document.voided_at is not None:
        raise Http404
    version = issued_version(document)
    if version is None:
        raise Http404
    return file_response(version)


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def official_download(
    request: HttpRequest, case_id: int, document_id: int, number: int
) -> HttpResponseBase:
    document, as_official = _case_document(request, case_id, document_id)
    if not as_official:
        raise Http404
    response = read_version(Actor.from_request(request), document, number, case=case_id)
    if response is None:
        raise Http404
    reads.document_read(request, document, case=document.case)
    return response


def issued_version(document: Document) -> DocumentVersion | None:
    return (
        DocumentVersion.objects.filter(
            document=document,
            kind__in=ISSUED_KINDS,
        )
        .order_by("-number")
        .first()
    )
