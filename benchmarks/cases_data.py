"""Generate cases, timeline events and tasks for ``make benchmark-cases`` (PostgreSQL only).

    python benchmarks/cases_data.py setup --authorities 20 --applicants 100000 --out F.json
    python benchmarks/cases_data.py grow --to 10000
    python benchmarks/cases_data.py grow --to 1000000

``setup`` makes the few objects that matter through the project's own services: authorities
(each with a unit, its default registry book and both pilots published), three officials per
authority (clerk, head of unit, approver), and API tokens. The applicants are inserted with one
``INSERT … SELECT generate_series``. ``grow`` adds cases up to ``--to`` with one statement per
100,000 cases for each table, in the shape the services write them:

* case *i* belongs to authority ``(i - 1) % A``, numbered ``(i - 1) // A + 1`` in its default
  book for 2026 (so the book has no gaps; the counter is moved past the last number);
* one case in ten is overtime (the applicant is the authority's clerk, an employee); the others
  are newborn aid, of an applicant spread over the citizens; the *heavy applicant* has 200 cases
  (every 50th of the first 10,000);
* 70 % end in the first final state of the definition, 5 % in the last (withdrawn), the rest
  are open in one of the other states: these have a task whose roles, role mask and deadline are
  computed by ``workflow`` as the services do (no deadline while waiting for the applicant);
* case *i* has ``5 + i % 11`` events (10 on average): the submission, comments (every other one
  internal), claims and releases, and — unless the case is still in its first state — the last
  transition into its state.

The rows carry the model's defaults for any column not named here, so a field added to a model
(with a default) does not break the generator. Plain indexes of ``cases_case`` and
``cases_caseevent`` are dropped during a large load and rebuilt from their own definitions;
foreign keys are not checked during the load (``session_replication_role = replica``): the ids
come from the rows made in ``setup``. ``VACUUM ANALYZE`` runs at the end of ``grow``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection, models, transaction  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from salter.authorities import services as authority_services  # noqa: E402
from salter.authorities.models import Authority, RegistryBook, RegistryCounter  # noqa: E402
from salter.cases import workflow  # noqa: E402
from salter.cases.access import role_mask  # noqa: E402
from salter.cases.models import Case, CaseEvent, Task  # noqa: E402
from salter.catalog import pilots  # noqa: E402
from salter.catalog import services as catalog_services  # noqa: E402
from salter.core.context import Actor  # noqa: E402
from salter.identity import services as identity  # noqa: E402
from salter.identity.models import Role, User  # noqa: E402

YEAR = 2026
CHUNK = 100_000
HEAVY_EVERY = 50  # the heavy applicant's cases: every 50th of the first 10,000
NEWBORN_FORM = {
    "parent_name": "Јована Јовановић",
    "parent_jmbg": "0101990715018",
    "parent_address": "Српских владара 1, Сурдулица",
    "parent_email": "jovana@example.rs",
    "bank_account": "160-0000000012345-67",
    "child_name": "Лука Јовановић",
    "child_jmbg": "0111026710010",
    "child_birth_date": "2026-11-01",
}
OVERTIME_FORM = {"date": "2026-12-01", "planned_hours": 3, "reason": "Годишњи извештај."}


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- setup -------------------------------------------------------------------------------------


def setup(n_authorities: int, n_applicants: int, n_tokens: int) -> dict[str, Any]:
    system = Actor.system("command")  # the operator at the console
    rows = []
    with transaction.atomic():
        for a in range(n_authorities):
            authority = authority_services.create_authority(
                system,
                code=f"bench-{a:02d}",
                name=f"Општина Бенч {a:02d}",
                kind=Authority.Kind.LOCAL_GOVERNMENT,
            )
            unit = authority_services.create_unit(system, authority, code="uprava", name="Управа")
            officials = {}
            for role in (Role.CLERK, Role.HEAD_OF_UNIT, Role.APPROVER):
                officials[role] = identity.add_official(
                    system,
                    email=f"{role}-{a:02d}@bench-cases.salter.test",
                    full_name=f"Службеник {role} {a:02d}",
                    unit=unit,
                    role=role,
                    password=None,
                ).user.pk
            newborn = catalog_services.offer_pilot(system, authority, pilots.NEWBORN_AID)
            overtime = catalog_services.offer_pilot(system, authority, pilots.OVERTIME)
            book = RegistryBook.objects.get(authority=authority, is_default=True)
            rows.append(
                {
                    "authority": authority.pk,
                    "code": authority.code,
                    "unit": unit.pk,
                    "book": book.pk,
                    "book_code": book.code,
                    "template": book.number_template,
                    "newborn": newborn.pk,
                    "overtime": overtime.pk,
                    "clerk": officials[Role.CLERK],
                    "head": officials[Role.HEAD_OF_UNIT],
                    "approver": officials[Role.APPROVER],
                }
            )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO identity_user (password, is_superuser, email, full_name, kind, language,
                email_verified_at, is_active, is_staff, is_platform_admin, date_joined)
            SELECT '!', false, 'citizen-' || n || '@bench-cases.salter.test',
                'Грађанин Бенч ' || n, 'citizen', 'sr', now(), true, false, false, now()
            FROM generate_series(1, %s) n ORDER BY n
            RETURNING id
            """,
            [n_applicants],
        )
        ids = sorted(r[0] for r in cursor.fetchall())
    assert ids == list(range(ids[0], ids[0] + n_applicants)), "applicant ids must be contiguous"
    heavy = ids[0]

    # Tokens: the heavy applicant (reads), the submitting citizens, the clerk of authority 0.
    def token(user_id: int, scopes: list[str]) -> str:
        user = User.objects.get(pk=user_id)
        return identity.create_api_token(
            Actor(user=user, via="bench"), name="bench", scopes=scopes, days=30, loa=2
        )[1]

    plan = {
        "authorities": rows,
        "first_applicant": ids[0],
        "applicants": n_applicants,
        "heavy_applicant": heavy,
        "heavy_token": token(heavy, ["read"]),
        "clerk_token": token(rows[0]["clerk"], ["read"]),
        "head_token": token(rows[0]["head"], ["read"]),
        # Submitters: citizens who have no generated case of their own to speak of.
        "submit_tokens": [token(ids[-1 - i], ["read", "write"]) for i in range(n_tokens)],
        "cases": 0,
    }
    save_plan(plan)
    return plan


def save_plan(plan: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_cases_plan (plan jsonb NOT NULL)")
        cursor.execute("DELETE FROM bench_cases_plan")
        cursor.execute("INSERT INTO bench_cases_plan VALUES (%s)", [Jsonb(plan)])


def load_plan() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT plan FROM bench_cases_plan")
        row = cursor.fetchone()
    if row is None:
        raise SystemExit("run setup first")
    plan: dict[str, Any] = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return plan


# --- grow --------------------------------------------------------------------------------------


def _states(version_id: int) -> list[dict[str, Any]]:
    """For r in 0..99: the state a case with that r is in, its task (if open) and more."""
    from salter.catalog.models import ServiceVersion

    definition = ServiceVersion.objects.get(pk=version_id).definition
    states = definition["workflow"]["states"]
    finals = [s for s in states if workflow.is_final(definition, s)]
    opens = [s for s in states if s not in finals]
    out = []
    for r in range(100):
        if r < 70:
            state = finals[0]
        elif r < 75:
            state = finals[-1]
        else:
            state = opens[(r - 75) % len(opens)]
        final = state in finals
        roles = [] if final else workflow.task_roles(definition, state)
        waits = bool((states[state] or {}).get("waits_for_applicant"))
        out.append(
            {
                "r": r,
                "state": state,
                "final": final,
                "roles": roles,
                "mask": role_mask(roles),
                "waits": waits,
                "initial": state == definition["workflow"]["initial"],
                "init": definition["workflow"]["initial"],
            }
        )
    return out


def _extra_columns(model: type[models.Model], named: set[str]) -> tuple[list[str], list[Any]]:
    """The columns of ``model`` not in ``named``, with their defaults as query parameters."""
    columns, params = [], []
    for field in model._meta.concrete_fields:
        if field.column in named or field.primary_key:
            continue
        value = field.get_default()
        if value is None and not field.null:
            raise SystemExit(f"{model.__name__}.{field.name}: no default; teach the generator")
        columns.append(field.column)
        params.append(Jsonb(value) if isinstance(field, models.JSONField) else value)
    return columns, params


def _plain_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``table`` that no constraint owns."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY i.relname
            """,
            [table],
        )
        return list(cursor.fetchall())


CASE_SQL = """
INSERT INTO cases_case (id, service_version_id, authority_id, applicant_id, on_behalf_of,
    registry_number, book_id, year, number, state, data, inputs, submitted_at, deadline_at,
    paused_at, paused_days, closed_at, idempotency_key, version {extra_columns})
SELECT g.i, CASE WHEN g.overtime THEN a.overtime ELSE a.newborn END, a.authority,
    CASE WHEN g.overtime THEN a.clerk
         WHEN g.i <= 10000 AND g.i %% {heavy_every} = 0 THEN {heavy}
         ELSE {first} + 1 + (g.i * 7919) %% ({applicants} - 1) END,
    '', replace(replace(replace(a.template, '{{book}}', a.book_code),
        '{{number}}', ((g.i - 1) / {n_auth} + 1)::text), '{{year}}', '{year}'),
    a.book, {year}, (g.i - 1) / {n_auth} + 1, s.state,
    CASE WHEN g.overtime THEN %(overtime_form)s ELSE %(newborn_form)s END, '{{}}'::jsonb,
    g.at, (g.at + interval '30 days')::date,
    CASE WHEN s.waits THEN g.at + interval '5 days' END, 0,
    CASE WHEN s.final THEN g.at + interval '20 days' END, NULL,
    5 + g.i %% 11 {extra_values}
FROM (SELECT i, i %% 10 = 3 AS overtime, (i * 13) %% 100 AS r,
        timestamptz '{year}-01-01 08:00+01' + i * interval '25 seconds' AS at
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i) g
JOIN bench_auth a ON a.a = (g.i - 1) %% {n_auth}
JOIN bench_state s ON s.overtime = g.overtime AND s.r = g.r
ORDER BY g.i
"""

EVENT_SQL = """
INSERT INTO cases_caseevent (case_id, at, kind, transition_id, from_state, to_state, actor_id,
    actor_role, unit_id, opinion, internal, payload)
SELECT c.id, c.submitted_at + k * interval '1 hour',
    CASE WHEN k = 1 THEN 'submitted' WHEN k = n AND NOT s.initial THEN 'transition'
         WHEN k %% 4 = 2 THEN 'claimed' WHEN k %% 4 = 3 THEN 'released' ELSE 'comment' END,
    CASE WHEN k = n AND k > 1 AND NOT s.initial THEN 'bench_step' ELSE '' END,
    CASE WHEN k = n AND k > 1 AND NOT s.initial THEN 'in_review' ELSE '' END,
    CASE WHEN k = 1 THEN s.init WHEN k = n AND NOT s.initial THEN c.state ELSE '' END,
    CASE WHEN k = 1 THEN c.applicant_id ELSE a.clerk END,
    CASE WHEN k = 1 THEN 'applicant' ELSE 'clerk' END,
    CASE WHEN k = 1 THEN NULL ELSE a.unit END,
    '', k > 1 AND k < n AND k %% 4 IN (0, 1) AND k %% 2 = 0,
    CASE WHEN k = 1 THEN jsonb_build_object('registry_number', c.registry_number)
         WHEN k < n AND k %% 4 IN (0, 1) THEN jsonb_build_object('text', 'Белешка ' || k)
         ELSE '{{}}'::jsonb END
FROM cases_case c
JOIN bench_auth a ON a.authority = c.authority_id
JOIN bench_state s ON s.overtime = (c.id %% 10 = 3) AND s.r = (c.id * 13) %% 100
CROSS JOIN LATERAL (SELECT 5 + c.id %% 11 AS n) e
CROSS JOIN LATERAL generate_series(1, e.n) k
WHERE c.id BETWEEN %(lo)s AND %(hi)s
ORDER BY c.id, k
"""

EVENT_COLUMNS = {"id", "case_id", "at", "kind", "transition_id", "from_state", "to_state",
                 "actor_id", "actor_role", "unit_id", "opinion", "internal", "payload"}  # fmt: skip

TASK_SQL = """
INSERT INTO cases_task (case_id, authority_id, state, roles, role_mask, assignee_id, due_at,
    created_at {extra_columns})
SELECT c.id, c.authority_id, c.state, s.roles, s.mask,
    CASE WHEN c.id %% 7 = 0 AND NOT s.waits THEN a.clerk END,
    CASE WHEN s.waits THEN NULL ELSE c.deadline_at END, c.submitted_at {extra_values}
FROM cases_case c
JOIN bench_auth a ON a.authority = c.authority_id
JOIN bench_state s ON s.overtime = (c.id %% 10 = 3) AND s.r = (c.id * 13) %% 100
WHERE c.id BETWEEN %(lo)s AND %(hi)s AND NOT s.final
ORDER BY c.id
"""


def _tables(plan: dict[str, Any]) -> None:
    """Temporary tables the generating statements join: authorities and per-r states."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_auth (a int, authority bigint, unit bigint, book bigint,"
            " book_code text, template text, newborn bigint, overtime bigint, clerk bigint)"
        )
        for a, row in enumerate(plan["authorities"]):
            cursor.execute(
                "INSERT INTO bench_auth VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [a, row["authority"], row["unit"], row["book"], row["book_code"],
                 row["template"], row["newborn"], row["overtime"], row["clerk"]],
            )  # fmt: skip
        cursor.execute(
            "CREATE TEMP TABLE bench_state (overtime bool, r int, state text, final bool,"
            " roles jsonb, mask int, waits bool, initial bool, init text)"
        )
        first = plan["authorities"][0]
        for overtime, version in ((False, first["newborn"]), (True, first["overtime"])):
            for s in _states(version):
                cursor.execute(
                    "INSERT INTO bench_state VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [overtime, s["r"], s["state"], s["final"], Jsonb(s["roles"]), s["mask"],
                     s["waits"], s["initial"], s["init"]],
                )  # fmt: skip


def grow(to: int) -> dict[str, float]:
    plan = load_plan()
    start = plan["cases"] + 1
    if to < start:
        log(f"already {plan['cases']} cases")
        return {}
    n_auth = len(plan["authorities"])
    timings: dict[str, float] = {}
    big = to - start + 1 >= 200_000
    t0 = time.perf_counter()
    dropped: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers while loading
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET work_mem = '256MB'")
        _tables(plan)
        if big:
            for table in ("cases_case", "cases_caseevent"):
                for name, definition in _plain_indexes(table):
                    cursor.execute(f'DROP INDEX "{name}"')
                    dropped.append((name, definition))
        case_extra, case_params = _extra_columns(
            Case,
            {"id", "service_version_id", "authority_id", "applicant_id", "on_behalf_of",
             "registry_number", "book_id", "year", "number", "state", "data", "inputs",
             "submitted_at", "deadline_at", "paused_at", "paused_days", "closed_at",
             "idempotency_key", "version"},
        )  # fmt: skip
        task_extra, task_params = _extra_columns(
            Task,
            {"case_id", "authority_id", "state", "roles", "role_mask", "assignee_id", "due_at",
             "created_at"},
        )  # fmt: skip
        if _extra_columns(CaseEvent, EVENT_COLUMNS)[0]:
            raise SystemExit("CaseEvent has a column EVENT_SQL does not fill; teach it")

        def fill(sql: str, extra: list[str], params: list[Any]) -> str:
            marks = [f"%(x{n})s" for n in range(len(extra))]
            return sql.format(
                extra_columns="".join(f", {c}" for c in extra),
                extra_values="".join(f", {m}" for m in marks),
                heavy_every=HEAVY_EVERY,
                heavy=plan["heavy_applicant"],
                first=plan["first_applicant"],
                applicants=plan["applicants"],
                n_auth=n_auth,
                year=YEAR,
            )

        case_sql = fill(CASE_SQL, case_extra, case_params)
        task_sql = fill(TASK_SQL, task_extra, task_params)
        event_sql = EVENT_SQL.format()
        extra_case = {f"x{n}": v for n, v in enumerate(case_params)}
        extra_task = {f"x{n}": v for n, v in enumerate(task_params)}
        forms = {"newborn_form": Jsonb(NEWBORN_FORM), "overtime_form": Jsonb(OVERTIME_FORM)}
        for lo in range(start, to + 1, CHUNK):
            hi = min(to, lo + CHUNK - 1)
            bounds = {"lo": lo, "hi": hi}
            for name, sql, params in (
                ("cases", case_sql, {**bounds, **forms, **extra_case}),
                ("events", event_sql, bounds),
                ("tasks", task_sql, {**bounds, **extra_task}),
            ):
                t = time.perf_counter()
                cursor.execute(sql, params)
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
            log(f"cases {lo}–{hi} with their events and tasks")
        t = time.perf_counter()
        for name, definition in dropped:
            cursor.execute(definition)
            log(f"rebuilt {name}")
        timings["indexes"] = time.perf_counter() - t
        # The identity sequences and the registry counters follow the generated rows.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), (SELECT max(id) FROM"
            " cases_case))"
        )
        per_book = (to - 1) // n_auth + 1
        for row in plan["authorities"]:
            RegistryCounter.objects.update_or_create(
                book_id=row["book"], year=YEAR, defaults={"last_number": per_book}
            )
        cursor.execute("SET session_replication_role = DEFAULT")
    plan["cases"] = to
    save_plan(plan)
    t = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    previous = raw.autocommit
    raw.autocommit = True
    try:
        for table in ("cases_case", "cases_caseevent", "cases_task", "identity_user"):
            raw.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        raw.autocommit = previous
    timings["vacuum_analyze"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    with connection.cursor() as cursor:
        counts = {}
        for table in ("cases_case", "cases_caseevent", "cases_task"):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            counts[table] = cursor.fetchone()[0]
    log(f"now {counts}; seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    return {**timings, **{f"rows_{k}": float(v) for k, v in counts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--authorities", type=int, default=20)
    s.add_argument("--applicants", type=int, default=100_000)
    s.add_argument("--tokens", type=int, default=64)
    g = sub.add_parser("grow")
    g.add_argument("--to", type=int, required=True)
    g.add_argument("--out", type=Path, help="append the timings (JSON lines)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}")
    if not connection.settings_dict["NAME"].startswith("salter_bench_cases"):
        raise SystemExit("the database name must start with salter_bench_cases")
    if args.command == "setup":
        if not 1 <= args.authorities <= 200 or not 1000 <= args.applicants <= 10_000_000:
            raise SystemExit("authorities 1–200, applicants 1000–10,000,000")
        t = time.perf_counter()
        setup(args.authorities, args.applicants, args.tokens)
        log(f"setup: {args.authorities} authorities, {args.applicants} applicants in"
            f" {time.perf_counter() - t:.1f} s")  # fmt: skip
    else:
        if not 1 <= args.to <= 50_000_000:
            raise SystemExit("--to between 1 and 50,000,000")
        timings = grow(args.to)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps({"to": args.to, **timings}) + "\n")


if __name__ == "__main__":
    main()
