"""E-mailbox (issue 5): the first page of a mailbox of 10,000 messages among a million, p50/p95.

    make benchmark-mailbox          # = python -m benchmarks.mailbox (PostgreSQL on 127.0.0.1)
    python -m benchmarks.mailbox --messages 1000000 --heavy 10000 --users 100000 --calls 500

1. recreates the PostgreSQL database ``salter_bench_mailbox`` (``--db``; it is dropped) on
   127.0.0.1:5432 and migrates it;
2. makes 20 authorities through the project's services, then loads with ``INSERT … SELECT
   generate_series``: ``--users`` citizens with a mailbox each, ``--messages`` messages in all —
   ``--heavy`` of them in the *heavy* citizen's mailbox, the rest spread over the others —
   each with its registry entry (documents_document), 70 % received from an authority (one in
   three of those a delivery in one of the delivery states), 30 % letters sent, 2 % unread;
3. times, one request at a time, in this process: ``queries.page`` (the page's query) for the
   first page and a deep one (the page after 80 % of the mailbox, reached by its cursor), then
   over HTTP through Django's test client with the whole middleware stack — ``GET /mailbox/``
   (first and deep page, a logged-in session) and ``GET /api/v1/mailbox/messages`` (first page,
   ``Authorization: Bearer``) —, then the officials' lists of one authority (letters,
   deliveries, those waiting for the post) and the navigation's unread count, with the queries
   of each, and ``EXPLAIN ANALYZE`` of the page;
4. prints the results as markdown (also in ``var/bench-mailbox/results.md``).

Everything stays on 127.0.0.1; sessions and cache as ``make run`` has them without Redis
(sessions in PostgreSQL, cache in process memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432"
YEAR = 2026
CHUNK = 250_000
AUTHORITIES = 20


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="salter_bench_mailbox")
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages in all")
    parser.add_argument("--heavy", type=int, default=10_000, help="in the measured mailbox")
    parser.add_argument("--users", type=int, default=100_000, help="citizens with a mailbox")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per scenario")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="reuse a database already loaded")
    args = parser.parse_args()
    if not args.db.startswith("salter_bench_mailbox"):
        raise SystemExit("--db must start with salter_bench_mailbox (it is dropped)")
    if not 0 < args.heavy < args.messages or args.users < 2:
        raise SystemExit("need 0 < --heavy < --messages and at least 2 users")
    return args


def recreate(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


ARGS = arguments()
os.environ["DATABASE_URL"] = f"{SERVER}/{ARGS.db}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")
os.environ.setdefault("SALTER_RATE_LIMITS", "0")  # one address makes all the calls
os.environ["SALTER_DEBUG"] = ""
os.environ.setdefault("SALTER_LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("SALTER_VAR_DIR", str(ROOT / "var" / "bench-mailbox"))
if not ARGS.keep:
    recreate(ARGS.db)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from salter.authorities import services as authority_services  # noqa: E402
from salter.authorities.models import Authority, RegistryBook  # noqa: E402
from salter.core.context import Actor  # noqa: E402
from salter.identity import services as identity  # noqa: E402
from salter.identity.models import User  # noqa: E402
from salter.mailbox import queries  # noqa: E402
from salter.mailbox.models import Delivery, Mailbox, Message  # noqa: E402

HEAVY_EMAIL = "heavy@bench-mailbox.salter.test"


# --- the data --------------------------------------------------------------------------------


def extra_columns(model: type[models.Model], named: set[str]) -> tuple[list[str], list[Any]]:
    """The columns of ``model`` not in ``named``, with their defaults as query parameters (a
    field added to the model with a default does not break the generator)."""
    columns, params = [], []
    for field in model._meta.concrete_fields:
        if field.column in named or field.primary_key:
            continue
        value = field.get_default()
        if value is None and not field.null:
            raise SystemExit(f"{model.__name__}.{field.name}: no default; teach the generator")
        columns.append(str(field.column))
        params.append(Jsonb(value) if isinstance(field, models.JSONField) else value)
    return columns, params


def setup(n_users: int) -> None:
    system = Actor.system("command")
    with transaction.atomic():
        for a in range(AUTHORITIES):
            authority_services.create_authority(
                system,
                code=f"bench-{a:02d}",
                name=f"Општина Бенч {a:02d}",
                kind=Authority.Kind.LOCAL_GOVERNMENT,
            )
    named = {
        "password", "is_superuser", "email", "full_name", "kind", "language",
        "email_verified_at", "is_active", "is_staff", "is_platform_admin", "date_joined",
    }  # fmt: skip
    extra, values = extra_columns(User, named)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO identity_user (password, is_superuser, email, full_name, kind, language,
                email_verified_at, is_active, is_staff, is_platform_admin, date_joined
                {"".join(", " + c for c in extra)})
            SELECT '!', false,
                CASE WHEN n = 1 THEN %s ELSE 'citizen-' || n || '@bench-mailbox.salter.test' END,
                'Грађанин Бенч ' || n, 'citizen', 'sr', now(), true, false, false, now()
                {"".join(", %s" for _c in extra)}
            FROM generate_series(1, %s) n ORDER BY n
            """,  # noqa: S608 — the columns are the model's own
            [HEAVY_EMAIL, *values, n_users],
        )
        cursor.execute(
            """
            INSERT INTO mailbox_mailbox (kind, user_id, created_at)
            SELECT 'person', id, now() - interval '3 years' FROM identity_user
            WHERE kind = 'citizen' ORDER BY id
            """
        )


# Message i (1-based) of the load: in the heavy mailbox when i % stride == 0 (evenly through
# the table's history), else in one of the others, round robin. Its authority is the (i % 20)th,
# its time spreads over two years; 70 % are received, one in three of those is a delivery.
MESSAGE_SQL = """
INSERT INTO mailbox_message (id, mailbox_id, authority_id, direction, case_id, document_id,
    subject, body, sent_by_id, created_at, read_at, idempotency_key)
SELECT i,
    CASE WHEN i %% %(stride)s = 0 THEN %(heavy_box)s
         ELSE %(first_box)s + 1 + (i %% (%(boxes)s - 1)) END,
    a.authority_id,
    CASE WHEN (i / 7) %% 10 < 7 THEN 'inbound' ELSE 'outbound' END,
    NULL, i,
    CASE WHEN (i / 7) %% 10 < 7 THEN 'Решење о праву ' || i ELSE 'Допуна захтева ' || i END,
    'Поштовани, у прилогу вам достављамо документ број ' || i || '.',
    NULL,
    %(start)s::timestamptz + (i * %(step)s) * interval '1 second',
    CASE WHEN hashint4(i::int) %% 50 = 0 THEN NULL
         ELSE %(start)s::timestamptz + (i * %(step)s + 3600) * interval '1 second' END,
    NULL
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i
JOIN bench_authority a ON a.k = (i / 13) %% %(authorities)s
"""

DOCUMENT_SQL = """
INSERT INTO documents_document (id, authority_id, book_id, year, number, sub_number,
    registry_number, case_id, direction, registered_at, sender, recipient, subject, category_id,
    verification_code, search_text, act_code, issued_at, issued_by_id, carried_over_from_id,
    voided_at, void_reason, created_by_id)
SELECT i, a.authority_id, a.book_id, %(year)s, i, 0,
    '01-' || i || '/' || %(year)s, NULL,
    CASE WHEN (i / 7) %% 10 < 7 THEN 'outgoing' ELSE 'incoming' END,
    %(start)s::timestamptz + (i * %(step)s) * interval '1 second',
    CASE WHEN (i / 7) %% 10 < 7 THEN '' ELSE 'Грађанин Бенч' END,
    CASE WHEN (i / 7) %% 10 < 7 THEN 'Грађанин Бенч' ELSE '' END,
    CASE WHEN (i / 7) %% 10 < 7 THEN 'Решење о праву ' || i ELSE 'Допуна захтева ' || i END,
    NULL, 'B' || lpad(i::text, 14, '0'), '01-' || i, '',
    CASE WHEN (i / 7) %% 10 < 7 THEN %(start)s::timestamptz + (i * %(step)s) * interval '1 second'
         END,
    NULL, NULL, NULL, '', NULL
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i
JOIN bench_authority a ON a.k = (i / 13) %% %(authorities)s
"""

# Deliveries: one received message in three, in states spread like a mailbox's history.
DELIVERY_SQL = """
INSERT INTO mailbox_delivery (message_id, case_id, channel, ground, state, submitted_at,
    delivered_at, notified_at, opened_at, answered_at, effective_at, deemed_on, last_seq)
SELECT m.id, NULL,
    CASE WHEN s.state LIKE 'postal%%' THEN 'postal' ELSE 'electronic' END,
    CASE WHEN s.state LIKE 'postal%%' THEN '' ELSE 'consent:1' END,
    s.state, m.created_at,
    CASE WHEN s.state NOT LIKE 'postal%%' THEN m.created_at END,
    CASE WHEN s.state NOT IN ('delivered', 'postal', 'postal_delivered')
         THEN m.created_at + interval '1 minute' END,
    CASE WHEN s.state IN ('opened', 'accepted', 'refused')
         THEN m.created_at + interval '2 hours' END,
    CASE WHEN s.state IN ('accepted', 'refused') THEN m.created_at + interval '3 hours' END,
    CASE WHEN s.state IN ('opened', 'accepted', 'refused') THEN m.created_at + interval '2 hours'
         WHEN s.state IN ('deemed', 'postal_delivered') THEN m.created_at + interval '15 days'
         END,
    CASE WHEN s.state NOT LIKE 'postal%%' THEN (m.created_at + interval '15 days')::date END,
    s.steps
FROM mailbox_message m
JOIN bench_state s ON s.k = (m.id / 17) %% 8 AND s.recent = (m.created_at > %(cutoff)s)
WHERE m.id BETWEEN %(lo)s AND %(hi)s AND (m.id / 11) %% 3 = 0 AND m.direction = 'inbound'
"""

# (recent, state, steps): a delivery of the last 30 days may still wait (not opened yet, or for
# the post); an older one has taken effect long ago (opened, answered, deemed, posted).
STATES = [
    *((True, state, steps) for state, steps in (
        ("delivered", 2), ("notified", 3), ("opened", 4), ("accepted", 5),
        ("notified", 3), ("refused", 5), ("postal", 2), ("postal_delivered", 3),
    )),
    *((False, state, steps) for state, steps in (
        ("accepted", 5), ("opened", 4), ("opened", 4), ("deemed", 4),
        ("deemed", 4), ("refused", 5), ("postal_delivered", 3), ("accepted", 5),
    )),
]  # fmt: skip


def load(n_messages: int, n_heavy: int) -> dict[str, Any]:
    heavy = User.objects.get(email=HEAVY_EMAIL)
    heavy_box = Mailbox.objects.get(user=heavy)
    first_box = Mailbox.objects.order_by("id").values_list("id", flat=True)[0]
    boxes = Mailbox.objects.count()
    books = list(
        RegistryBook.objects.filter(is_default=True)
        .order_by("authority_id")
        .values_list("authority_id", "id")
    )
    step = max(1, (2 * 365 * 86400) // n_messages)  # two years of history
    start = f"{YEAR - 1}-01-01T00:00:00+01:00"
    began = datetime.fromisoformat(start)
    cutoff = began + timedelta(seconds=n_messages * step) - timedelta(days=30)
    params: dict[str, Any] = {
        "stride": n_messages // n_heavy,
        "heavy_box": heavy_box.pk,
        "first_box": first_box,
        "boxes": boxes,
        "authorities": len(books),
        "start": start,
        "step": step,
        "year": YEAR,
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_authority (k int, authority_id int, book_id int)")
        for k, (authority_id, book_id) in enumerate(books):
            cursor.execute(
                "INSERT INTO bench_authority VALUES (%s, %s, %s)", [k, authority_id, book_id]
            )
        cursor.execute("CREATE TEMP TABLE bench_state (k int, recent bool, state text, steps int)")
        for k, (recent, state, steps) in enumerate(STATES):
            cursor.execute(
                "INSERT INTO bench_state VALUES (%s, %s, %s, %s)", [k % 8, recent, state, steps]
            )
        cursor.execute("SET session_replication_role = replica")  # ids come from rows above
        for lo in range(1, n_messages + 1, CHUNK):
            hi = min(n_messages, lo + CHUNK - 1)
            with transaction.atomic():
                cursor.execute(DOCUMENT_SQL, {**params, "lo": lo, "hi": hi})
                cursor.execute(MESSAGE_SQL, {**params, "lo": lo, "hi": hi})
                cursor.execute(DELIVERY_SQL, {"lo": lo, "hi": hi, "cutoff": cutoff})
            log(f"{hi:,} messages")
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("documents_document", "mailbox_message", "mailbox_delivery"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"heavy": heavy.pk, "box": heavy_box.pk}


# --- measuring -------------------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))
    return ordered[index]


def timed(name: str, call: Callable[[], Any], calls: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        call()
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    # Not CaptureQueriesContext: a request through the test client resets the query log.
    with connection.execute_wrapper(count):
        call()
    seconds = []
    for _ in range(calls):
        t0 = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - t0)
    ordered = sorted(seconds)
    result = {
        "name": name,
        "calls": calls,
        "queries": len(executed),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * percentile(ordered, 95), 2),
        "p99_ms": round(1000 * percentile(ordered, 99), 2),
    }
    log(f"{name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {len(executed)} queries")
    return result


def ok(client: Client, url: str, **headers: str) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        return response

    return call


def explain(box: Mailbox, before: Any) -> str:
    with CaptureQueriesContext(connection) as captured:
        queries.page(box, before)
    sql = captured.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)
        return "\n".join(r[0] for r in cursor.fetchall())


def measure(plan: dict[str, Any], calls: int, warmup: int) -> dict[str, Any]:
    box = Mailbox.objects.get(pk=plan["box"])
    heavy = User.objects.get(pk=plan["heavy"])
    total = Message.objects.count()
    in_box = Message.objects.filter(mailbox=box).count()
    unread = queries.unread_count(box)
    depth = int(in_box * 0.8)
    deep_row = Message.objects.filter(mailbox=box).order_by("-created_at", "-id")[depth]
    deep = (deep_row.created_at, deep_row.pk)
    cursor = queries.encode_cursor(deep_row)

    authority = Authority.objects.order_by("id")[0]
    letters = Message.objects.filter(authority=authority, direction="outbound").count()
    deliveries = Delivery.objects.filter(message__authority=authority).count()
    postal = Delivery.objects.filter(message__authority=authority, state="postal").count()
    pending = Delivery.objects.filter(effective_at__isnull=True).count()

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    browser = Client(headers={"accept-language": "sr"})
    browser.force_login(heavy)
    _token, secret = identity.create_api_token(
        Actor(user=heavy, via="bench"), name="bench", scopes=["read"], days=1, loa=2
    )
    bearer = {"Authorization": f"Bearer {secret}"}
    first = ok(browser, "/mailbox/")()
    if b"card-title" not in first.content:
        raise SystemExit("the mailbox page shows no message")

    results = [
        timed("queries.page, first page of 20", lambda: queries.page(box), calls, warmup),
        timed(
            f"queries.page, deep page of 20 (after message {depth:,} of {in_box:,})",
            lambda: queries.page(box, deep),
            calls,
            warmup,
        ),
        timed("GET /mailbox/ (first page, session)", ok(browser, "/mailbox/"), calls, warmup),
        timed(
            "GET /mailbox/?before=… (deep page, session)",
            ok(browser, f"/mailbox/?before={cursor}"),
            calls,
            warmup,
        ),
        timed(
            "GET /api/v1/mailbox/messages (first page, Bearer)",
            ok(Client(), "/api/v1/mailbox/messages", **bearer),
            calls,
            warmup,
        ),
        timed(
            f"officials: queries.letters, first page of 50 ({letters:,} letters)",
            lambda: queries.letters(authority),
            calls,
            warmup,
        ),
        timed(
            f"officials: queries.authority_deliveries, first page of 50 ({deliveries:,})",
            lambda: queries.authority_deliveries(authority),
            calls,
            warmup,
        ),
        timed(
            f"officials: waiting for the post ({postal:,} of the authority, {pending:,} pending"
            " in all)",
            lambda: queries.authority_deliveries(authority, state="postal"),
            calls,
            warmup,
        ),
        timed(
            "unread count of the mailbox (the navigation's query)",
            lambda: queries.unread_of_user(heavy),
            calls,
            warmup,
        ),
    ]
    return {
        "messages": total,
        "in_box": in_box,
        "unread": unread,
        "deliveries": box.messages.filter(delivery__isnull=False).count(),
        "results": results,
        "plan_first": explain(box, None),
        "plan_deep": explain(box, deep),
    }


def report(figures: dict[str, Any], args: argparse.Namespace, seconds: dict[str, float]) -> str:
    lines = [
        f"Mailbox of **{figures['in_box']:,}** messages ({figures['deliveries']:,} deliveries, "
        f"{figures['unread']:,} unread) among **{figures['messages']:,}** messages in "
        f"{args.users:,} mailboxes; "
        + (f"loaded in {seconds['load']:.0f} s. " if seconds["load"] else "database reused. ")
        + f"{args.calls} timed calls each after {args.warmup} untimed, one at a time, in process.",
        "",
        "| scenario | p50 ms | p95 ms | p99 ms | queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in figures["results"]:
        lines.append(
            f"| {r['name']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['queries']} |"
        )
    lines += [
        "",
        "Plan of the page's query (first page):",
        "",
        "```",
        figures["plan_first"],
        "```",
        "",
        "Plan of the page's query (deep page):",
        "",
        "```",
        figures["plan_deep"],
        "```",
    ]
    return "\n".join(lines)


def main() -> None:
    started = time.time()
    seconds: dict[str, float] = {}
    if not ARGS.keep:
        log(f"database {ARGS.db} (recreated), migrations")
        call_command("migrate", verbosity=0, interactive=False)
        t0 = time.time()
        setup(ARGS.users)
        log(f"{ARGS.users:,} citizens and their mailboxes")
        plan = load(ARGS.messages, ARGS.heavy)
        seconds["load"] = time.time() - t0
    else:
        heavy = User.objects.get(email=HEAVY_EMAIL)
        plan = {"heavy": heavy.pk, "box": Mailbox.objects.get(user=heavy).pk}
        seconds["load"] = 0.0
    call_command("collectstatic", verbosity=0, interactive=False)  # the pages link the CSS
    figures = measure(plan, ARGS.calls, ARGS.warmup)
    text = report(figures, ARGS, seconds)
    out = Path(os.environ["SALTER_VAR_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(text + "\n")
    print(text)
    log(f"done in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
