from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from salter.core.translit import html_to_latin, to_latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Општина Сурдулица", "Opština Surdulica"),
        ("Љубиша Њежић Џаковић", "Ljubiša Nježić Džaković"),
        ("ЉУБИША ЊЕЖИЋ", "LJUBIŠA NJEŽIĆ"),
        ("ђак ћурка чаша жаба шума", "đak ćurka čaša žaba šuma"),
        ("Šalter 2026 — ok", "Šalter 2026 — ok"),
    ],
)
def test_to_latin(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])))
def test_latin_output_has_no_serbian_cyrillic(text: str) -> None:
    result = to_latin(text)
    assert not any(
        ch in "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШабвгдђежзијклљмнњопрстћуфхцчџш" for ch in result
    )


def test_marked_regions_stay_cyrillic() -> None:
    kept = "<!--translit:off--><option>Српски (ћирилица)</option><!--translit:on-->"
    html = f"<p>Српски</p>{kept}<p>крај</p>"
    assert html_to_latin(html) == f"<p>Srpski</p>{kept}<p>kraj</p>"


@pytest.mark.django_db
def test_pages_in_latin_script_are_derived_from_cyrillic(client: Client, authority: object) -> None:
    cyrillic = client.get("/", HTTP_ACCEPT_LANGUAGE="sr").content.decode()
    assert "Општина Сурдулица" in cyrillic
    assert 'lang="sr-Cyrl"' in cyrillic
    client.cookies["salter_language"] = "sr-latn"
    latin = client.get("/").content.decode()
    assert "Opština Surdulica" in latin
    assert 'lang="sr-Latn"' in latin
    assert "Српски (ћирилица)" in latin  # the language switcher names itself
    client.cookies["salter_language"] = "en"
    english = client.get("/").content.decode()
    assert "Municipality of Surdulica" in english


@pytest.mark.django_db
def test_django_messages_in_latin_come_from_the_cyrillic_catalogue(client: Client) -> None:
    """Django's own form errors read the same in both scripts (not Django's sr_Latn wording)."""
    data = {"email": "not an address", "full_name": "", "password1": "x", "password2": "x"}
    cyrillic = client.post("/register/", data).content.decode()
    client.cookies["salter_language"] = "sr-latn"
    latin = client.post("/register/", data).content.decode()
    cyrillic_error = "Унесите исправну и-мејл адресу."
    assert cyrillic_error in cyrillic
    assert to_latin(cyrillic_error) in latin


@pytest.mark.django_db
def test_latin_page_declares_its_own_length(client: Client, authority: object) -> None:
    client.cookies["salter_language"] = "sr-latn"
    response = client.get("/")
    assert int(response["Content-Length"]) == len(response.content)
    assert response["Content-Language"] == "sr-latn"
