"""The registry of documents: numbers and sub-numbers, uploads checked by content, versions
with their SHA-256, voiding instead of deleting, the category list."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import date
from functools import cache

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from salter.audit import services as audit
from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority, Category, OrgUnit
from salter.cases import services as cases
from salter.cases.tests.conftest import NEWBORN_FORM, offer
from salter.catalog import pilots
from salter.core.context import Actor
from salter.documents import services, uploads
from salter.documents.management.commands.sweep_files import stored_files
from salter.documents.models import Document, DocumentVersion
from salter.identity.models import Role, User

pytestmark = pytest.mark.django_db


@cache
def a_pdf() -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string="<h1>Решење</h1><p>Један, два.</p>").write_pdf())


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def incoming(system: Actor, authority: Authority, **changes: object) -> Document:
    values: dict[str, object] = {
        "authority": authority,
        "direction": Document.Direction.INCOMING,
        "subject": "Захтев за информације од јавног значаја",
        "sender": "Петар Петровић, Сурдулица",
    }
    values.update(changes)
    return services.register(system, **values)  # type: ignore[arg-type]


# --- uploads ---------------------------------------------------------------------------------


def test_the_type_comes_from_the_content_not_the_name() -> None:
    checked = uploads.check("scan.jpg", a_pdf())
    assert checked.content_type == uploads.PDF
    assert checked.sha256 == hashlib.sha256(a_pdf()).hexdigest()
    assert uploads.check("../../etc/photo.pdf", PNG).content_type == uploads.PNG
    assert uploads.check("../../etc/photo.pdf", PNG).name == "photo.pdf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"MZ\x90\x00 an executable", "Only PDF, PNG and JPEG files are accepted"),
        (b"<html><script>alert(1)</script>", "Only PDF, PNG and JPEG files are accepted"),
        (b"%PDF-1.7\n garbage without objects", "The PDF is damaged"),
    ],
)
def test_refusals_say_why(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        uploads.check("x.pdf", data)
    assert message in caught.value.message_dict["file"][0]


def test_a_file_over_the_limit_is_refused(settings: object) -> None:
    settings.SALTER_UPLOAD_MAX_BYTES = 1024  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="1 kB"):
        uploads.check("big.pdf", a_pdf() + b"\0" * 2048)


def test_a_truncated_pdf_is_refused() -> None:
    data = a_pdf()
    with pytest.raises(ValidationError, match="damaged"):
        uploads.check("cut.pdf", data[: len(data) // 3])


# --- numbers ---------------------------------------------------------------------------------


def test_documents_take_the_next_number_and_acts_of_a_case_its_sub_numbers(
    authority: Authority, system: Actor, official: User, citizen: User
) -> None:
    first = incoming(system, authority)
    second = incoming(system, authority)
    assert (first.number, second.number) == (1, 2) and first.sub_number == 0
    assert first.registry_number.endswith(f"-1/{first.year}")

    version = offer(system, authority, pilots.NEWBORN_AID)
    case = cases.submit(Actor(user=citizen, via="test"), version, NEWBORN_FORM)[0]
    assert case.number == 3  # cases and documents share the book
    act = services.register(
        Actor(user=official, via="test"),
        authority=authority,
        direction=Document.Direction.OUTGOING,
        recipient=citizen.full_name,
        subject="Решење о једнократној помоћи",
        case=case,
    )
    again = services.register(
        Actor(user=official, via="test"),
        authority=authority,
        direction=Document.Direction.INTERNAL,
        subject="Службена белешка",
        case=case,
    )
    assert (act.number, act.sub_number, again.sub_number) == (3, 1, 2)
    assert act.registry_number == f"{case.registry_number}-1"
    assert incoming(system, authority).number == 4  # sub-numbers take no book number


def test_who_may_register_and_what_is_checked(
    authority: Authority, unit: OrgUnit, system: Actor, citizen: User
) -> None:
    with pytest.raises(PermissionDenied):
        incoming(Actor(user=citizen, via="test"), authority)
    with pytest.raises(ValidationError) as caught:
        incoming(system, authority, subject=" ", sender="")
    assert set(caught.value.message_dict) == {"subject", "sender"}
    with pytest.raises(ValidationError) as caught:
        services.register(
            system, authority=authority, direction="sideways", subject="x", recipient="y"
        )
    assert "direction" in caught.value.message_dict
    assert not Document.objects.exists()


def test_a_failed_registration_leaves_no_number_and_no_file(
    authority: Authority, system: Actor
) -> None:
    before = set(_stored())
    checked = uploads.check("a.pdf", a_pdf())
    with pytest.raises(ValidationError):
        with transaction.atomic():
            incoming(system, authority, upload=checked)
            raise ValidationError("the caller failed afterwards")
    # The transaction rolled back: the next document takes number 1 again.
    assert incoming(system, authority).number == 1
    # The row is gone with the transaction; the file it had written is an orphan that
    # `salter sweep_files` removes (only files older than the given minutes).
    assert DocumentVersion.objects.count() == 0
    leftover = set(_stored()) - before
    assert len(leftover) == 1
    out = io.StringIO()
    call_command("sweep_files", "--older-than", "0", stdout=out)
    assert "removed 1 file(s)" in out.getvalue()
    assert set(_stored()) - before == set()


def test_a_failed_version_write_removes_its_file(authority: Authority, system: Actor) -> None:
    document = incoming(system, authority)
    before = set(_stored())
    services.add_version(system, document, uploads.check("a.pdf", a_pdf()))
    first = set(_stored()) - before
    with pytest.raises(IntegrityError), transaction.atomic():
        services._store(system, document, uploads.check("b.pdf", a_pdf()), number=1, note="")
    assert set(_stored()) - before == first  # the second file was removed at once
    for name in first:
        default_storage.delete(name)


def _stored() -> list[str]:
    return stored_files()


def test_versions_keep_their_hash_and_a_voided_entry_stays(
    authority: Authority, system: Actor
) -> None:
    document = incoming(system, authority, upload=uploads.check("zahtev.pdf", a_pdf()))
    second = services.add_version(system, document, uploads.check("scan.png", PNG), note="скен")
    versions = list(document.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2] and second.content_type == uploads.PNG
    assert all(services.verify_file(v) for v in versions)
    with default_storage.open(str(versions[0].file.name), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == versions[0].sha256

    with pytest.raises(ValidationError, match="Write why"):
        services.void(system, document, "")
    services.void(system, document, "Уписано два пута.")
    document.refresh_from_db()
    assert document.voided_at is not None and document.void_reason == "Уписано два пута."
    with pytest.raises(ValueError, match="never deleted"):
        document.delete()
    with pytest.raises(ValidationError, match="voided"):
        services.add_version(system, document, uploads.check("more.pdf", a_pdf()))
    actions = list(
        AuditEvent.objects.filter(object_type="documents.document", object_id=str(document.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "document.registered",
        "document.version_added",
        "document.version_added",
        "document.voided",
    ]
    for version in versions:
        default_storage.delete(str(version.file.name))


# --- the category list ------------------------------------------------------------------------


def test_the_category_list_is_versioned(authority: Authority, system: Actor) -> None:
    first = authorities.create_category_list(
        system,
        authority,
        valid_from=date(2020, 1, 1),
        approval_number="02-1234/2019",
        categories=[("01-1", "Решења о социјалној помоћи", 10), ("01-2", "Статут", None)],
    )
    second = authorities.create_category_list(
        system, authority, valid_from=date(2025, 1, 1), categories=[("01-1", "Решења", 5)]
    )
    assert (first.version, second.version) == (1, 2)
    permanent = Category.objects.get(category_list=first, code="01-2")
    assert permanent.permanent and permanent.retention_years is None
    assert [c.code for c in authorities.current_categories(authority, date(2024, 6, 1))] == [
        "01-1",
        "01-2",
    ]
    assert authorities.current_categories(authority)[0].retention_years == 5
    with pytest.raises(ValidationError):
        authorities.create_category_list(
            system, authority, valid_from=date(2026, 1, 1), categories=[("x", "a", 0)]
        )


def test_a_code_of_another_authority_is_refused(authority: Authority, system: Actor) -> None:
    other = authorities.create_authority(system, code="apr", name="АПР", kind="agency")
    foreign = authorities.create_category_list(
        system, other, valid_from=date(2020, 1, 1), categories=[("9", "Туђе", 1)]
    ).categories.get()
    with pytest.raises(ValidationError, match="not in the authority's list"):
        incoming(system, authority, category=foreign)


# --- verification codes ------------------------------------------------------------------------


@given(st.data())
def test_a_code_typed_loosely_is_found(data: st.DataObject) -> None:
    code = services.new_verification_code()
    typed = data.draw(
        st.sampled_from(
            [code, code.lower(), code.replace("-", " "), code.replace("-", ""), f" {code} "]
        )
    )
    assert services.normalise_code(typed) == code
    assert services.normalise_code(code[:-1]) == ""


# --- concurrency --------------------------------------------------------------------------------

THREADS = 6
PER_THREAD = 10


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers; SQLite serialises them with BEGIN IMMEDIATE instead",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_leave_no_gap_and_no_duplicate(
    authority: Authority, unit: OrgUnit, system: Actor
) -> None:
    clerk = authorities_official(system, unit)
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                try:
                    with transaction.atomic():
                        incoming(Actor(user=clerk, via="test"), authority)
                        if (thread + i) % 5 == 0:
                            raise RuntimeError("the submission failed after its number")
                except RuntimeError:
                    pass
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    numbers = sorted(Document.objects.values_list("number", flat=True))
    expected = sum((t + i) % 5 != 0 for t in range(THREADS) for i in range(PER_THREAD))
    assert numbers == list(range(1, expected + 1))
    assert audit.verify().ok


def authorities_official(system: Actor, unit: OrgUnit) -> User:
    from salter.identity import services as identity

    return identity.add_official(
        system,
        email="pisarnica@surdulica.demo",
        full_name="Писарница",
        unit=unit,
        role=Role.REGISTRY_CLERK,
        password=None,
    ).user
