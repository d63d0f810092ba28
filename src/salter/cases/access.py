"""Who may act on a case and who reads it: the access rules every app asks.

* **Seats** — where an official sits: their memberships *in force*, and the memberships of
  those they stand in for today (deputy, delegation).
* **Reach** — a seat reaches a case in its authority when its unit is the case's unit, a unit
  below it (for a head of unit), or the role serves the whole authority, and its clearance is
  at least the case's confidentiality level (:mod:`salter.core.confidentiality`).
* **Case roles** — the roles in which someone may act on a case; a grant to read gives none.
* **Who to notify** — the officials of a case's authority who hear of a step in a role.
* **Role bits** — the work queue's portable "roles intersect" filter (``Task.role_mask``).

Reads and use cases of every app import these at the top; nothing here writes.
See ``docs/confidentiality.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone

from salter.authorities.models import OrgUnit
from salter.cases import workflow
from salter.cases.models import Case, CaseEvent, CaseGrant, Task
from salter.cases.timeline import MOVES
from salter.core.confidentiality import RANKS, Level, clearance_rank, level_rank
from salter.identity.models import Delegation, Membership, Role, User

# One bit per role, for the work queue's portable "roles intersect" filter (Task.role_mask).
ROLE_BITS = {role: 1 << i for i, role in enumerate([*Role.values, workflow.APPLICANT])}


def role_mask(roles: list[str]) -> int:
    mask = 0
    for role in roles:
        mask |= ROLE_BITS.get(role, 0)
    return mask


def official_roles(user: User, authority_id: int) -> set[str]:
    """Every role ``user`` holds today in the authority, in any unit. Says who works there,
    not who reads a given case: that is :func:`sees`."""
    return set(
        Membership.objects.in_force()
        .filter(user=user, unit__authority_id=authority_id)
        .values_list("role", flat=True)
    )


# --- who reads a case as an official -----------------------------------------------------------

# Roles that serve the whole authority rather than one unit: the registry office registers and
# routes every unit's mail, the archivist keeps every unit's records, the authority's
# administrator answers for its organisation and grants access to its cases. They reach every
# unit's cases, still only up to their clearance.
AUTHORITY_WIDE = frozenset(
    {Role.REGISTRY_CLERK.value, Role.ARCHIVIST.value, Role.AUTHORITY_ADMIN.value}
)
# Who may give an official access to one case (salter.cases.grants).
GRANTING = frozenset({Role.HEAD_OF_UNIT.value, Role.AUTHORITY_ADMIN.value})


@dataclass(frozen=True)
class Seat:
    """A place from which an official reads an authority's cases: one of their memberships
    (``own``), or the membership of someone they stand in for today as a deputy or by
    delegation — a stand-in reads what their principal reads in that role and unit, no more."""

    authority_id: int
    role: str
    unit_id: int
    clearance: str
    own: bool


def seats(
    user: User,
    *,
    authority: int | None = None,
    roles: Iterable[str] | None = None,
    day: date | None = None,
) -> list[Seat]:
    """The user's seats today (in one authority, in some roles): one query, their own
    memberships and their principals' delegated ones together (UNION), each side read by an
    index on the user (the principal's memberships only for the unit and role delegated)."""
    day = day or timezone.localdate()
    own = Membership.objects.in_force(day).filter(user=user)
    standing = Delegation.objects.in_force(day).filter(delegate=user)
    if authority is not None:
        own = own.filter(unit__authority_id=authority)
        standing = standing.filter(unit__authority_id=authority)
    if roles is not None:
        wanted = list(roles)
        own = own.filter(role__in=wanted)
        standing = standing.filter(role__in=wanted)
    principals = (
        Membership.objects.in_force(day)
        .filter(user_id__in=standing.values("principal_id"))
        .filter(
            Exists(
                standing.filter(
                    principal_id=OuterRef("user_id"),
                    unit_id=OuterRef("unit_id"),
                    role=OuterRef("role"),
                )
            )
        )
    )
    columns = ("unit__authority_id", "role", "unit_id", "clearance", "own")
    rows = (
        own.annotate(own=Value(True))
        .values_list(*columns)
        .union(principals.annotate(own=Value(False)).values_list(*columns))
    )
    return [Seat(a, role, unit, clearance, bool(mine)) for a, role, unit, clearance, mine in rows]


def unit_path(unit_id: int | None) -> list[int]:
    """``unit_id`` and the units above it, nearest first: one query per three levels."""
    if unit_id is None:
        return []
    path = [unit_id]
    while len(path) < 50:  # a parent loop made by hand must not loop here
        row = (
            OrgUnit.objects.filter(pk=path[-1])
            .values_list("parent_id", "parent__parent_id", "parent__parent__parent_id")
            .first()
        )
        above = [u for u in (row or ()) if u is not None]
        if any(u in path for u in above):
            break
        path.extend(above)
        if len(above) < 3:
            break
    return path


def _reaches(seat: Seat, case: Case, path: Callable[[], list[int]]) -> bool:
    if seat.authority_id != case.authority_id:
        return False
    if level_rank(case.confidentiality) > clearance_rank(seat.clearance):
        return False
    if case.unit_id is None or seat.role in AUTHORITY_WIDE or seat.unit_id == case.unit_id:
        return True
    # A head of unit oversees the units below theirs.
    return seat.role == Role.HEAD_OF_UNIT and seat.unit_id in path()[1:]


def reaching_seats(case: Case, user: User) -> list[Seat]:
    """The user's seats that reach ``case``: one query (two for the head of a unit above the
    case's, who needs the units' line). Kept on the case, so the page asks once."""
    cached = case.__dict__.get("_reaching")
    if cached is not None and cached[0] == user.pk:
        return list(cached[1])
    line: list[int] | None = None

    def path() -> list[int]:
        nonlocal line
        if line is None:
            line = unit_path(case.unit_id)
        return line

    found = [s for s in seats(user, authority=case.authority_id) if _reaches(s, case, path)]
    case.__dict__["_reaching"] = (user.pk, tuple(found))
    return found


def sees(case: Case, user: User) -> bool:
    """Whether ``user`` reads ``case`` as an official through their own roles (a grant aside)."""
    return bool(reaching_seats(case, user))


def case_roles(case: Case, user: User) -> tuple[dict[str, int], set[str]]:
    """The roles in which ``user`` may act on ``case``: their own (role → the unit they act
    from) and those they hold standing in for someone. A grant gives none."""
    own: dict[str, int] = {}
    standing: set[str] = set()
    for seat in reaching_seats(case, user):
        if seat.own:
            own.setdefault(seat.role, seat.unit_id)
        else:
            standing.add(seat.role)
    return own, standing


def reach_filters(case: Case) -> tuple[Q, Q]:
    """Conditions on :class:`Membership` rows and on :class:`Delegation` rows (of anyone)
    that reach ``case`` — the same rule as :func:`reaching_seats`, for lists of officials
    (whom a task may be given to). A delegation reaches it when its unit and role do and the
    principal's membership in them is cleared for the case's level. One query for the
    units' line when the case has a unit."""
    rank = level_rank(case.confidentiality)
    cleared = [level for level in Level.values if RANKS[level] >= rank]
    scope = Q()
    if case.unit_id is not None:
        above = unit_path(case.unit_id)[1:]
        scope = (
            Q(unit_id=case.unit_id)
            | Q(role__in=sorted(AUTHORITY_WIDE))
            | Q(role=Role.HEAD_OF_UNIT, unit_id__in=above)
        )
    memberships = Q(unit__authority_id=case.authority_id, clearance__in=cleared) & scope
    delegations = (
        Q(unit__authority_id=case.authority_id)
        & scope
        & Q(
            Exists(
                Membership.objects.in_force().filter(
                    user_id=OuterRef("principal_id"),
                    unit_id=OuterRef("unit_id"),
                    role=OuterRef("role"),
                    clearance__in=cleared,
                )
            )
        )
    )
    return memberships, delegations


def may_grant(case: Case, user: User) -> bool:
    """A head of unit or administrator who reaches the case (or stands in for one) may give
    others access to it."""
    return any(s.role in GRANTING for s in reaching_seats(case, user))


def active_grant(case: Case, user: User) -> CaseGrant | None:
    """The user's grant to ``case`` in force now (not revoked, not expired): one query on
    the (user, case) index."""
    now = timezone.now()
    return (
        CaseGrant.objects.filter(case_id=case.pk, user_id=user.pk, revoked_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("-granted_at", "-id")
        .first()
    )


def _official_access(case: Case, user: User) -> bool:
    """Whether ``user`` reads ``case`` as an official; sets ``case.access_grant`` to the grant
    when only a grant lets them (else None), so reads under it carry its hidden-until."""
    case.access_grant = None  # type: ignore[attr-defined]
    case.may_grant_access = False  # type: ignore[attr-defined]
    if sees(case, user):
        case.may_grant_access = may_grant(case, user)  # type: ignore[attr-defined]
        return True
    if not user.is_official:  # a grant is only ever given to an official
        return False
    grant = active_grant(case, user)
    case.access_grant = grant  # type: ignore[attr-defined]
    return grant is not None


def may_read(case: Case, user: User) -> bool:
    """Whether ``user`` may read ``case`` at all: its applicant, or an official who sees it
    (own roles or a grant). For reads of a case's parts (payments, documents) by id."""
    return case.applicant_id == user.pk or _official_access(case, user)


def visible_case(case_id: int, user: User) -> tuple[Case, bool] | None:
    """The case if ``user`` may see it — as its applicant (``False``) or as an official who
    reaches it or holds a grant to it (``True``) — else ``None``, so callers answer 404 and
    never reveal that someone else's case exists. Three queries at most: the case, the
    caller's seats, a grant only when the seats do not reach the case.

    ``case.access_grant`` is the grant when access came only from one (reads under it are
    logged with its hidden-until), else None; ``case.may_grant_access`` says whether the
    caller may give others access to it."""
    case = (
        Case.objects.select_related("service_version__service__authority", "task__assignee")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return None
    if case.applicant_id == user.pk:
        case.access_grant = None  # type: ignore[attr-defined]
        case.may_grant_access = False  # type: ignore[attr-defined]
        return case, False  # the applicant's view, even if they work at the authority
    if _official_access(case, user):
        return case, True
    return None


def officials_to_notify(case: Case, role: str) -> list[User]:
    """The officials of the case's authority holding ``role`` today — narrowed to the one who
    has the case's task in their work, else to those who already acted on the case in that
    role (the clerk who asked for the supplement hears of the answer), else all of them.
    Only memberships that reach the case (its unit, its level) count: nobody hears of a case
    they cannot open. One query (two for a case of a unit: the units above it)."""
    reach, _stand_ins = reach_filters(case)
    memberships = (
        Membership.objects.in_force()
        .filter(unit__authority_id=case.authority_id, role=role, user__is_active=True)
        .filter(reach)
        .select_related("user")
        .annotate(
            assigned=Exists(Task.objects.filter(case_id=case.pk, assignee=OuterRef("user"))),
            acted=Exists(
                CaseEvent.objects.filter(
                    case_id=case.pk, actor=OuterRef("user"), actor_role=role, kind__in=MOVES
                )
            ),
        )
        .order_by("user_id")
    )
    found = {m.user_id: m for m in memberships}  # a role in two units counts once
    for mark in ("assigned", "acted"):
        narrowed = [m.user for m in found.values() if getattr(m, mark)]
        if narrowed:
            return narrowed
    return [m.user for m in found.values()]
