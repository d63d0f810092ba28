"""Confidentiality levels of cases and documents, and officials' clearances, in rising order.

An official reads a case or a document only if its level is at most their clearance in the
unit that handles it (or they were granted access to that case). Levels compare by rank."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Level(models.TextChoices):
    PUBLIC = "public", _("Public")
    RESTRICTED = "restricted", _("Restricted")
    INTERNAL = "internal", pgettext_lazy("confidentiality level", "Internal")
    CASE_CONFIDENTIAL = "case_confidential", _("Case-confidential")
    CONFIDENTIAL = "confidential", _("Confidential")
    SECRET = "secret", _("Secret")


RANKS: dict[str, int] = {value: rank for rank, value in enumerate(Level.values)}
# A case's level when its service's definition names none: it holds an applicant's personal
# data, read by the officials who handle it.
DEFAULT_CASE_LEVEL = Level.RESTRICTED.value
# An official's clearance unless their membership says otherwise: everything but the
# case-confidential and classified levels, which need a higher clearance or a grant.
DEFAULT_CLEARANCE = Level.INTERNAL.value


def rank(level: str) -> int:
    return RANKS[level]


def within(level: str, clearance: str) -> bool:
    return RANKS[level] <= RANKS[clearance]


# A level or clearance the code does not know (a hand-edited row) ranks as follows: a case at
# an unknown level is treated as the most secret, an unknown clearance as no clearance at all.
UNKNOWN_LEVEL = len(RANKS)
UNKNOWN_CLEARANCE = -1


def level_rank(level: str) -> int:
    return RANKS.get(level, UNKNOWN_LEVEL)


def clearance_rank(clearance: str) -> int:
    return RANKS.get(clearance, UNKNOWN_CLEARANCE)


def levels_up_to(rank: int) -> list[str]:
    """The levels a clearance of ``rank`` reads, for ``confidentiality__in`` filters."""
    return [level for level in Level.values if RANKS[level] <= rank]
