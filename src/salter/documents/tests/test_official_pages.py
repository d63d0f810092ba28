"""The registry clerk's pages: who sees them, registering with a file, an entry's versions,
voiding, and the exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases.tests.test_official_views import signed_in
from salter.core.context import Actor
from salter.documents import services, uploads
from salter.documents.models import Document
from salter.identity import services as identity
from salter.identity.models import Role, User

from .test_registry import PNG, a_pdf

pytestmark = pytest.mark.django_db
BOOK = "/official/registry/"


def member(system: Actor, unit: OrgUnit, email: str, role: str) -> User:
    return identity.add_official(
        system, email=email, full_name=email.split("@")[0], unit=unit, role=role, password=None
    ).user


@pytest.fixture
def keeper(system: Actor, unit: OrgUnit) -> User:
    return member(system, unit, "pisarnica@surdulica.demo", Role.REGISTRY_CLERK)


def upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_who_sees_the_registry(
    authority: Authority, unit: OrgUnit, system: Actor, keeper: User, citizen: User
) -> None:
    document = services.register(
        system, authority=authority, direction="incoming", subject="Допис", sender="АПР"
    )
    urls = [
        BOOK,
        reverse("official:registry_new"),
        reverse("official:registry_entry", args=[document.pk]),
        reverse("official:registry_export", args=["book", "csv"]),
    ]
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    clerk = signed_in(member(system, unit, "referent@surdulica.demo", Role.CLERK))
    other_authority = authorities.create_authority(system, code="apr", name="АПР", kind="agency")
    other_unit = authorities.create_unit(system, other_authority, code="pis", name="Писарница")
    stranger = signed_in(member(system, other_unit, "pis@apr.demo", Role.REGISTRY_CLERK))
    for client in (clerk, stranger):
        for url in urls[2:3]:
            assert client.get(url).status_code == 404, url
    assert clerk.get(BOOK).status_code == 404  # a clerk keeps no book
    assert "Допис" not in stranger.get(BOOK).content.decode()  # another authority's book
    assert signed_in(citizen).get(BOOK).status_code in (302, 403)
    assert signed_in(keeper).get(BOOK).status_code == 200


def test_register_with_a_file_download_it_and_void(
    authority: Authority, system: Actor, keeper: User
) -> None:
    categories = authorities.create_category_list(
        system,
        authority,
        valid_from=date(2020, 1, 1),
        approval_number="02-77/2020",
        categories=[("01-1", "Захтеви грађана", 5)],
    )
    category = categories.categories.get()
    client = signed_in(keeper)
    wrong = client.post(
        reverse("official:registry_new"),
        {"direction": "incoming", "subject": "", "file": upload("x.exe", b"MZ\x90\x00")},
    )
    text = wrong.content.decode()
    assert wrong.status_code == 400
    assert "Only PDF, PNG and JPEG files are accepted" in text
    assert not Document.objects.exists()

    done = client.post(
        reverse("official:registry_new"),
        {
            "direction": "incoming",
            "subject": "Захтев за приступ информацијама",
            "sender": "Петар Петровић",
            "category": str(category.pk),
            "file": upload("zahtev.pdf", a_pdf()),
        },
    )
    document = Document.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"/registry/{document.pk}/")
    page = client.get(done["Location"]).content.decode()
    assert "zahtev.pdf" in page and document.versions.get().sha256 in page

    file = client.get(reverse("official:registry_download", args=[document.pk, 1]))
    assert file.status_code == 200 and b"".join(file.streaming_content) == a_pdf()  # type: ignore[attr-defined]
    assert file["Content-Disposition"].startswith("attachment")
    assert file["X-Content-Type-Options"] == "nosniff"

    scan = client.post(
        reverse("official:registry_add_version", args=[document.pk]),
        {"file": upload("scan.png", PNG), "note": "скен"},
    )
    assert scan.status_code == 302 and document.versions.count() == 2

    short = client.post(reverse("official:registry_void", args=[document.pk]), {"reason": ""})
    assert short.status_code == 400 and "Write why the entry is voided." in short.content.decode()
    client.post(reverse("official:registry_void", args=[document.pk]), {"reason": "Дупло."})
    document.refresh_from_db()
    assert document.voided_at is not None
    listed = client.get(BOOK + "?voided=only").content.decode()
    assert document.registry_number in listed and "Voided" in listed


def test_search_filters_and_pages(authority: Authority, system: Actor, keeper: User) -> None:
    for i in range(55):
        services.register(
            system,
            authority=authority,
            direction="outgoing" if i % 2 else "incoming",
            subject=f"Допис {i}" if i != 7 else "Жалба на решење",
            sender="Пошиљалац",
            recipient="Прималац",
        )
    client = signed_in(keeper)
    found = client.get(BOOK + "?q=жалба").content.decode()
    assert "Жалба на решење" in found and "Допис 8<" not in found
    latin = client.get(BOOK + "?q=ŽALBA+rešenje").content.decode()  # typed in Latin
    assert "Жалба на решење" in latin
    first = client.get(BOOK).content.decode()
    assert first.count('href="/official/registry/') - first.count("/registry/new") >= 50
    assert "Next page" in first or "Следећа страна" in first
    outgoing = client.get(BOOK + "?direction=outgoing").content.decode()
    assert "Допис 2<" not in outgoing and "Допис 3<" in outgoing


def test_exports(authority: Authority, system: Actor, keeper: User) -> None:
    category = authorities.create_category_list(
        system,
        authority,
        valid_from=date(2020, 1, 1),
        approval_number="02-77/2020",
        categories=[("01-1", "Захтеви грађана", 5), ("02-3", "Статут", None)],
    ).categories.order_by("code")
    services.register(
        system,
        authority=authority,
        direction="incoming",
        subject="=HYPERLINK(1)",
        sender="Пера",
        category=category[0],
    )
    services.register(
        system, authority=authority, direction="internal", subject="Статут", category=category[1]
    )
    client = signed_in(keeper)
    book = client.get(reverse("official:registry_export", args=["book", "csv"]))
    rows = list(csv.reader(io.StringIO(book.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[1][5] == "'=HYPERLINK(1)"  # not run as a formula
    archival = client.get(reverse("official:registry_export", args=["archival", "csv"]))
    table = list(csv.reader(io.StringIO(archival.content.decode("utf-8-sig"))))
    assert all(len(r) == 11 for r in table)
    assert table[1][4:8] == ["01-1", "5 years", "02-77/2020", "1"]
    assert table[2][4:6] == ["02-3", "permanently"]
    pdf = client.get(reverse("official:registry_export", args=["archival", "pdf"]))
    assert pdf.content.startswith(b"%PDF-") and pdf["Content-Type"] == "application/pdf"
    assert uploads.sniff(pdf.content) == uploads.PDF
    assert client.get("/official/registry/export/other.csv").status_code == 404
