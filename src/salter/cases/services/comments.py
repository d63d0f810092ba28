"""Comments on a case's timeline."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import timeline, workflow
from salter.cases.models import Case, CaseEvent
from salter.cases.services.common import (
    MAX_COMMENT,
    case_roles_of,
    invalid,
    lock,
)
from salter.core.context import Actor
from salter.identity.permissions import require_user


@transaction.atomic
def comment(actor: Actor, case: Case | int, text: str, *, internal: bool = True) -> CaseEvent:
    """A comment on the timeline. Officials of the authority write internal comments (never
    shown to the applicant) or public ones; the applicant's comments are always public."""
    require_user(actor)
    assert actor.user is not None
    case = lock(case)
    text = text.strip()
    if not text:
        raise invalid({"text": _("Write the comment.")})
    if len(text) > MAX_COMMENT:
        raise invalid({"text": _("Enter at most %(n)s characters.") % {"n": MAX_COMMENT}})
    if actor.user.pk == case.applicant_id:
        role, unit_id, internal = workflow.APPLICANT, None, False
    else:
        held, _standing = case_roles_of(actor, case)  # a grant to read gives no voice
        if not held:
            raise PermissionDenied(_("Only officials of the authority can comment on this case."))
        role, unit_id = next(iter(held.items()))
    recorded = timeline.record(
        case,
        CaseEvent.Kind.COMMENT,
        actor,
        at=timezone.now(),
        role=role,
        unit_id=unit_id,
        internal=internal,
        payload={"text": text},
    )
    audit.record(
        actor,
        "case.commented",
        case,
        authority_id=case.authority_id,
        payload={"internal": internal},
    )
    return recorded
