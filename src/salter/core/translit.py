"""Serbian Cyrillic → Latin transliteration (the two official scripts map one to one).

Šalter writes Serbian once, in Cyrillic; the sr-Latn pages are derived from it, so the two
scripts can never drift apart.
"""

from __future__ import annotations

import re

_LETTERS = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Ђ": "Đ", "Е": "E", "Ж": "Ž",
    "З": "Z", "И": "I", "Ј": "J", "К": "K", "Л": "L", "Љ": "Lj", "М": "M", "Н": "N",
    "Њ": "Nj", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "Ћ": "Ć", "У": "U",
    "Ф": "F", "Х": "H", "Ц": "C", "Ч": "Č", "Џ": "Dž", "Ш": "Š",
}  # fmt: skip
_TABLE = {ord(cyr): lat for cyr, lat in _LETTERS.items()}
_TABLE.update({ord(cyr.lower()): lat.lower() for cyr, lat in _LETTERS.items()})
_DIGRAPH_CAPS = {"Љ": "LJ", "Њ": "NJ", "Џ": "DŽ"}
# A digraph letter inside an all-capitals word is written with both letters capital (ЉУБОВ →
# LJUBOV), while at the start of a capitalised word only the first is (Љубов → Ljubov).
_CAPS_DIGRAPH = re.compile(r"[ЉЊЏ](?=[А-ЯЂЈЉЊЋЏ])|(?<=[А-ЯЂЈЉЊЋЏ])[ЉЊЏ]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def to_latin(text: str) -> str:
    """Transliterate Serbian Cyrillic in ``text`` to Latin; other characters are kept."""
    if not _CYRILLIC.search(text):
        return text
    text = _CAPS_DIGRAPH.sub(lambda m: _DIGRAPH_CAPS[m.group(0)], text)
    return text.translate(_TABLE)


_OFF = "<!--translit:off-->"
_ON = "<!--translit:on-->"


def html_to_latin(html: str) -> str:
    """Transliterate an HTML page, leaving ``<!--translit:off-->…<!--translit:on-->`` alone.

    The language switcher uses the markers so that "Српски (ћирилица)" stays Cyrillic.
    """
    if _OFF not in html:
        return to_latin(html)
    out: list[str] = []
    rest = html
    while rest:
        head, sep, tail = rest.partition(_OFF)
        out.append(to_latin(head))
        if not sep:
            break
        kept, sep2, rest = tail.partition(_ON)
        out.append(_OFF + kept + sep2)
    return "".join(out)
