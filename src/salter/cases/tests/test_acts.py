"""The acts a case produces (salter.documents.acts): the clerk's draft registered as an act of
the case, the approval line of reviewers, the approver's signature released by a fresh second
factor, the authority's seal, the signed PDF as the act's version — and what is refused, with
nothing changed."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, add_totp, totp_code
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority
from salter.authorities.services import create_category_list
from salter.cases import services
from salter.cases.errors import CaseError
from salter.cases.models import Approval, CaseEvent
from salter.catalog import definitions
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.documents import verification
from salter.documents.models import Document, DocumentVersion
from salter.identity import fresh
from salter.identity.models import Person, User

from .conftest import act, confirmed
from .test_approvals import drafted, with_line
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db

DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Испуњени су сви услови."}


def stored(version: DocumentVersion) -> bytes:
    with default_storage.open(str(version.file.name), "rb") as handle:
        return bytes(handle.read())


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "act.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def test_the_draft_is_registered_as_an_act_of_the_case(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, tmp_path: Path
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    document = Document.objects.get(case=case, act_code="decision")
    assert document.registry_number == f"{case.registry_number}-1"
    assert (document.act_code, document.direction) == ("decision", "outgoing")
    assert document.issued_at is None and document.recipient == citizen.full_name
    (draft,) = document.versions.all()
    assert draft.kind == DocumentVersion.Kind.DRAFT and draft.created_by == clerk
    text = pdftotext(stored(draft), tmp_path)
    assert "НАЦРТ" in text or "DRAFT" in text
    assert document.registry_number in text and document.verification_code in text
    event = case.events.get(kind=CaseEvent.Kind.DRAFTED)
    assert event.internal  # the applicant does not see drafts


def test_the_approver_signs_and_the_authority_seals(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, tmp_path: Path
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    head.person = Person.objects.create(jmbg="0101990710121")  # digits 10–12: 012, a man
    head.save(update_fields=["person"])
    services.take_transition(
        act(head), case, "approve_decision", opinion="Сагласан.", confirmation=confirmed(head)
    )
    document = Document.objects.get(case=case, act_code="decision")
    assert document.issued_by == head and document.issued_at is not None
    kinds = list(document.versions.order_by("number").values_list("kind", flat=True))
    assert kinds == ["draft", "signed"]
    signed = document.versions.get(kind="signed")
    pdf = stored(signed)
    report = verification.verify_pdf(pdf)
    assert report.valid, report.messages
    assert [(s.kind, s.signer_name) for s in report.signatures] == [
        ("personal", "Бранко Шефовић"),
        ("seal", case.authority.name),
    ]
    assert all(s.timestamp_valid and s.valid_then for s in report.signatures)
    text = pdftotext(pdf, tmp_path)
    # The visible signature line: the title of the signing role, the verb agreeing with the
    # signer's gender (from the signer's JMBG).
    assert "Начелник одељења Електронски потписао Бранко Шефовић" in text
    assert "НАЦРТ" not in pdftotext(pdf, tmp_path)
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "signature.key_released" in actions
    assert actions.count("document.version_added") == 2
    issued = case.events.get(kind=CaseEvent.Kind.DOCUMENT)
    assert not issued.internal and issued.payload["registry_number"] == document.registry_number
    # Anyone holding the decision checks it by the code printed under its QR code.
    public = Client(headers={"accept-language": "en"}).get(f"/verify/{document.verification_code}/")
    assert public.status_code == 200
    text = public.content.decode()
    assert "Every signature and seal on this document is valid." in text
    assert "Бранко Шефовић" in text and signed.sha256 in text


def test_a_revised_draft_keeps_its_number(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    services.take_transition(act(head), case, "return_draft", opinion="Допунити образложење.")
    services.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    services.take_transition(
        act(head), case, "approve_decision", opinion="Сада да.", confirmation=confirmed(head)
    )
    document = Document.objects.get(case=case, act_code="decision")  # one act, not two
    assert document.sub_number == 1
    kinds = list(document.versions.order_by("number").values_list("kind", flat=True))
    assert kinds == ["draft", "draft", "signed"]


@pytest.mark.parametrize("how", ["none", "someone else's", "stale"])
def test_signing_without_a_fresh_second_factor_changes_nothing(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, how: str
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    confirmation = {
        "none": None,
        "someone else's": confirmed(clerk),
        "stale": fresh.Confirmation(head.pk, timezone.now() - timedelta(minutes=5), "totp"),
    }[how]
    with pytest.raises(fresh.SecondFactorRequired):
        services.take_transition(
            act(head), case, "approve_decision", opinion="Да.", confirmation=confirmation
        )
    case.refresh_from_db()
    assert case.state == "decision_drafted"
    assert not Approval.objects.filter(case=case).exists()
    assert (
        Document.objects.get(case=case, act_code="decision").versions.count() == 1
    )  # the draft only


def test_a_timestamp_authority_that_does_not_answer_refuses_the_step(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, settings: Any
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    settings.SALTER_TSA_URL = "http://127.0.0.1:9/tsa"  # the discard port: nobody answers
    with pytest.raises(CaseError, match="could not be signed"):
        services.take_transition(
            act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
        )
    case.refresh_from_db()
    assert case.state == "decision_drafted"
    assert not Approval.objects.filter(case=case).exists()
    assert Document.objects.get(case=case, act_code="decision").issued_at is None


def test_a_permanent_category_gets_a_document_timestamp(
    authority: Authority,
    newborn_aid: ServiceVersion,
    citizen: User,
    clerk: User,
    head: User,
    system: Actor,
) -> None:
    create_category_list(
        system,
        authority,
        valid_from=timezone.localdate() - timedelta(days=1),
        categories=[("05.1", "Решења о помоћи породици", None)],
    )
    case = drafted(newborn_aid, citizen, clerk)
    services.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    document = Document.objects.get(case=case, act_code="decision")
    assert document.category is not None and document.category.permanent
    report = verification.verify_pdf(stored(document.versions.get(kind="signed")))
    assert report.valid and len(report.document_timestamps) == 1  # PAdES B-LTA


def test_the_definition_check_knows_acts() -> None:
    from salter.catalog import pilots

    definition = pilots.load("newborn_aid")
    for transition in definition["workflow"]["transitions"]:
        if transition["id"] == "close":  # taken by a timer
            transition["document"] = {"code": "decision", "action": "sign"}
        if transition["id"] == "deliver":
            transition["document"] = {"code": "no_such", "action": "seal"}
    problems = {p.path for p in definitions.validate(definition)}
    close = next(
        i for i, t in enumerate(definition["workflow"]["transitions"]) if t["id"] == "close"
    )
    deliver = next(
        i for i, t in enumerate(definition["workflow"]["transitions"]) if t["id"] == "deliver"
    )
    assert f"/workflow/transitions/{close}/document/action" in problems
    assert f"/workflow/transitions/{deliver}/document/code" in problems


# --- the pages ------------------------------------------------------------------------------


def test_signing_on_the_page_with_a_typed_code_and_with_a_step_up(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    client = signed_in(head)
    device = TOTPDevice.objects.get(user=head)
    first = drafted(newborn_aid, citizen, clerk)
    url = reverse("official:case_take", args=[first.pk, "approve_decision"])
    page = client.get(reverse("official:case", args=[first.pk])).content.decode()
    assert 'name="second_factor_code"' in page and 'autocomplete="one-time-code"' in page

    refused = client.post(url, {"opinion": "Сагласан.", "expected_version": first.version})
    assert refused.status_code == 400
    assert "To sign, confirm it is you" in refused.content.decode()
    assert "Сагласан." in refused.content.decode()  # nothing typed is lost

    client.post(
        url,
        {
            "opinion": "Сагласан.",
            "expected_version": first.version,
            "second_factor_code": totp_code(device),
        },
    )
    first.refresh_from_db()
    assert first.state == "approved"

    # A passkey user confirms on the step-up page first; the confirmation serves one signature.
    second = drafted(newborn_aid, citizen, clerk)
    step_up = client.post(
        reverse("identity:step_up") + "?level=2", {"code": totp_code(device, offset=1)}
    )
    assert step_up.status_code == 302
    url = reverse("official:case_take", args=[second.pk, "approve_decision"])
    client.post(url, {"opinion": "Да.", "expected_version": second.version})
    second.refresh_from_db()
    assert second.state == "approved"
    third = drafted(newborn_aid, citizen, clerk)
    url = reverse("official:case_take", args=[third.pk, "approve_decision"])
    again = client.post(url, {"opinion": "Да.", "expected_version": third.version})
    assert again.status_code == 400  # used up


def test_who_downloads_which_version(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    document = Document.objects.get(case=case, act_code="decision")
    mine = Client(headers={"accept-language": "en"})
    mine.force_login(citizen)
    applicant_url = reverse("cases:document", args=[case.pk, document.pk])
    assert mine.get(applicant_url).status_code == 404  # a draft is the authority's
    assert "Documents" not in mine.get(reverse("cases:detail", args=[case.pk])).content.decode()

    services.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    page = mine.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert applicant_url in page and document.verification_code in page
    response = mine.get(applicant_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]

    other = User.objects.create_user("drugi@example.rs", "x" * 12, full_name="Друго")
    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(applicant_url).status_code == 404

    official = signed_in(clerk)
    page = official.get(reverse("official:case", args=[case.pk])).content.decode()
    draft_url = reverse("official:case_document", args=[case.pk, document.pk, 1])
    assert draft_url in page
    assert official.get(draft_url).status_code == 200
    read = AuditEvent.objects.filter(action="document.read").get()
    assert read.actor_id == clerk.pk
    outsider = signed_in(other)  # not an official: the officials' pages refuse them outright
    assert outsider.get(draft_url).status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="document.read", actor_id=other.pk).exists()


def test_a_seal_only_act_needs_no_second_factor(
    authority: Authority, citizen: User, clerk: User, head: User, system: Actor
) -> None:
    from salter.catalog import pilots
    from salter.catalog import services as catalog

    definition = pilots.load("newborn_aid")
    for transition in definition["workflow"]["transitions"]:
        if transition["id"] == "approve_decision":
            transition["document"] = {"code": "decision", "action": "seal"}
    service = catalog.create_service(
        system, authority, code="sealed-aid", name="Помоћ", kind="administrative"
    )
    version = catalog.publish_version(
        system, catalog.create_draft_version(system, service, definition)
    )
    case = drafted(version, citizen, clerk)
    services.take_transition(act(head), case, "approve_decision", opinion="Да.")
    document = Document.objects.get(case=case, act_code="decision")
    assert document.issued_by is None and document.issued_at is not None
    report = verification.verify_pdf(stored(document.versions.get(kind="sealed")))
    assert report.valid and [s.kind for s in report.signatures] == ["seal"]


def test_reviewers_record_opinions_and_the_last_approver_signs(
    authority: Authority,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    secretary: User,
) -> None:
    case = drafted(with_line(system, authority, "sequential"), citizen, clerk)
    services.take_transition(act(head), case, "approve_decision", opinion="Образложење је добро.")
    document = Document.objects.get(case=case, act_code="decision")
    assert document.issued_at is None  # a reviewer's opinion signs nothing
    services.take_transition(
        act(secretary),
        case,
        "approve_decision",
        opinion="Потписујем.",
        confirmation=confirmed(secretary),
    )
    document.refresh_from_db()
    assert document.issued_by == secretary
    line = list(Approval.objects.filter(case=case).order_by("step").values_list("actor", "opinion"))
    assert line == [(head.pk, "Образложење је добро."), (secretary.pk, "Потписујем.")]
    report = verification.verify_pdf(stored(document.versions.get(kind="signed")))
    assert report.signatures[0].signer_name == secretary.full_name


def test_validation_errors_of_a_signing_step_come_before_the_second_factor(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = drafted(newborn_aid, citizen, clerk)
    with pytest.raises(ValidationError):  # the opinion is missing
        services.take_transition(act(head), case, "approve_decision")


def test_the_second_step_of_a_login_does_not_release_the_key(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    """Only a confirmation asked for on purpose (the code with the step, or the step-up page)
    signs: logging in a minute ago is not one."""
    device = add_totp(head)
    client = Client(headers={"accept-language": "en"})
    client.post(reverse("identity:login"), {"username": head.email, "password": PASSWORD})
    client.post(reverse("identity:login_verify"), {"code": totp_code(device)})
    assert client.session.get(fresh.SESSION_KEY) is None
    case = drafted(newborn_aid, citizen, clerk)
    url = reverse("official:case_take", args=[case.pk, "approve_decision"])
    refused = client.post(url, {"opinion": "Да.", "expected_version": case.version})
    assert refused.status_code == 400
    case.refresh_from_db()
    assert case.state == "decision_drafted"
