"""Fixtures of the mailbox tests: the case engine's (pilots, officials) and a case whose
decision is signed and ready to be delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.conftest import (  # noqa: F401 — fixtures, registered by importing
    NEWBORN_FORM,
    act,
    clerk,
    confirmed,
    head,
    make_official,
    newborn_aid,
)
from salter.catalog.models import ServiceVersion
from salter.identity.models import User

DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English (the source language); the site's default is sr."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def approved_case(version: ServiceVersion, citizen: User, clerk: User, head: User) -> Case:  # noqa: F811
    """A newborn-aid case whose decision the head has signed: next comes its delivery."""
    case = cases.submit(act(citizen), version, NEWBORN_FORM)[0]
    cases.take_transition(act(clerk), case, "start_review")
    cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    cases.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def approved(newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User) -> Case:  # noqa: F811
    return approved_case(newborn_aid, citizen, clerk, head)
