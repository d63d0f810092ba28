from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

HTML_LANG = {"sr": "sr-Cyrl", "sr-latn": "sr-Latn", "en": "en"}
LANGUAGE_LABELS = [("sr", "Српски (ћирилица)"), ("sr-latn", "Srpski (latinica)"), ("en", "English")]


def salter(request: HttpRequest) -> dict[str, Any]:
    language = translation.get_language() or settings.LANGUAGE_CODE
    if getattr(request, "latin_script", False):
        language = "sr-latn"  # rendered in Cyrillic, transliterated on the way out
    return {
        "html_lang": HTML_LANG.get(language, language),
        "language_choices": LANGUAGE_LABELS,
        "current_language": language,
        "oidc_enabled": bool(settings.SALTER_OIDC["issuer"]),
        "oidc_label": settings.SALTER_OIDC["label"],
        "loa": request.session.get("salter_loa", 0) if hasattr(request, "session") else 0,
    }
