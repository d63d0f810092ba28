"""Data Tracker (issue 6): the cost of logging a case read, and "Who accessed my data" at scale.

    make benchmark-exchange          # = python -m benchmarks.exchange (PostgreSQL on 127.0.0.1)
    python -m benchmarks.exchange --records 10000000 --heavy 100000 --calls 500

1. recreates the PostgreSQL database ``salter_bench_exchange`` (``--db``; it is dropped) and
   migrates it; makes an authority, the newborn-aid service, a clerk with a second factor, a
   citizen and a submitted case, through the project's services;
2. loads ``--records`` access records (``INSERT … SELECT generate_series``) over the last twelve
   months, into the monthly partitions: ``--heavy`` of them about the measured citizen, evenly
   through time, the rest about ``--people`` others;
3. overhead: ``GET /official/cases/<id>/`` as the clerk (a logged-in session, the whole
   middleware stack, the page renders the case and its timeline) with the access log on and
   off (``tracker.switched_off()``), alternating blocks of calls so drift hits both alike; the
   ratio of the medians is the figure (goal: at most 1.10);
4. the citizen's "Who accessed my data": the page's query and ``GET`` of the page (session),
   first page and a deep page, p50/p95 with the queries of each and ``EXPLAIN ANALYZE``;
5. prints markdown (also in ``var/bench-exchange/results.md``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432"
CHUNK = 1_000_000


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="salter_bench_exchange")
    parser.add_argument("--records", type=int, default=10_000_000, help="access records in all")
    parser.add_argument("--heavy", type=int, default=100_000, help="about the measured person")
    parser.add_argument("--people", type=int, default=1_000_000, help="other persons")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per scenario")
    parser.add_argument("--blocks", type=int, default=10, help="on/off blocks for the overhead")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="reuse a database already loaded")
    args = parser.parse_args()
    if not args.db.startswith("salter_bench_exchange"):
        raise SystemExit("--db must start with salter_bench_exchange (it is dropped)")
    if not 0 < args.heavy < args.records:
        raise SystemExit("need 0 < --heavy < --records")
    return args


def recreate(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


ARGS = arguments()
os.environ["DATABASE_URL"] = f"{SERVER}/{ARGS.db}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")
os.environ["SALTER_DEBUG"] = ""
os.environ.setdefault("SALTER_LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("SALTER_VAR_DIR", str(ROOT / "var" / "bench-exchange"))
if not ARGS.keep:
    recreate(ARGS.db)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from salter.authorities import services as authority_services  # noqa: E402
from salter.authorities.models import Authority  # noqa: E402
from salter.cases import services as case_services  # noqa: E402
from salter.cases.models import Case  # noqa: E402
from salter.catalog import pilots  # noqa: E402
from salter.catalog import services as catalog_services  # noqa: E402
from salter.core.context import Actor  # noqa: E402
from salter.exchange import access_log, queries, tracker  # noqa: E402
from salter.exchange.models import AccessRecord  # noqa: E402
from salter.identity import services as identity  # noqa: E402
from salter.identity.models import Person, User  # noqa: E402

CITIZEN = "citizen@bench-exchange.salter.test"
CLERK = "clerk@bench-exchange.salter.test"
FORM = {
    "parent_name": "Јована Јовановић",
    "parent_jmbg": "0101990715018",
    "parent_address": "Српских владара 1, Сурдулица",
    "parent_email": "jovana@example.rs",
    "bank_account": "160-0000000012345-67",
    "child_name": "Лука Јовановић",
    "child_jmbg": "0111026710010",
    "child_birth_date": "2026-11-01",
}


def setup() -> dict[str, int]:
    system = Actor.system("command")
    with transaction.atomic():
        authority = authority_services.create_authority(
            system, code="bench-x", name="Општина Бенч", kind=Authority.Kind.LOCAL_GOVERNMENT
        )
        unit = authority_services.create_unit(system, authority, code="soc", name="Социјална")
        version = catalog_services.offer_pilot(system, authority, pilots.NEWBORN_AID)
        for role in ("clerk", "head_of_unit"):
            clerk = identity.add_official(
                system,
                email=CLERK,
                full_name="Марко Службеник",
                unit=unit,
                role=role,
                password=None,
            ).user
        TOTPDevice.objects.create(user=clerk, name="bench", confirmed=True)
        citizen = User.objects.create_user(CITIZEN, None, full_name="Јована Ј.")
        case, _new = case_services.submit(Actor(user=citizen), version, FORM)
    person = Case.objects.get(pk=case.pk).applicant.person_id
    return {"case": case.pk, "person": person, "clerk": clerk.pk, "authority": authority.pk}


# Record i (1-based): about the heavy person when i % stride == 0, else one of the others;
# its time spreads evenly over the last twelve months, so every monthly partition holds some.
RECORD_SQL = """
INSERT INTO exchange_accessrecord (at, visible_at, hidden_until, subject_id, reader_id,
    reader_label, authority_id, action, purpose, legal_basis, items, case_id, request_id)
SELECT t, t, NULL,
    CASE WHEN i %% %(stride)s = 0 THEN %(heavy)s ELSE %(base)s + (i %% %(people)s) END,
    %(reader)s, 'Марко Службеник', %(authority)s,
    CASE WHEN i %% 5 = 0 THEN 'register_query' ELSE 'case_read' END,
    'case_processing', 'Закон о финансијској подршци породици са децом',
    '["child_jmbg", "parent_address", "parent_jmbg", "parent_name"]'::jsonb,
    NULL, md5(i::text)
FROM (
    SELECT i, %(start)s::timestamptz + (i * %(step)s) * interval '1 millisecond' AS t
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i
) g
"""


def load(plan: dict[str, int], records: int, heavy: int, people: int) -> None:
    now = timezone.now()
    start = now - timedelta(days=365)
    access_log.ensure_partitions(connection, start.date(), 14)
    step = (365 * 86400 * 1000 - 60_000) // records  # milliseconds between records
    params = {
        "stride": records // heavy,
        "heavy": plan["person"],
        "base": plan["person"] + 1_000,
        "people": people,
        "reader": plan["clerk"],
        "authority": plan["authority"],
        "start": start.isoformat(),
        "step": step,
    }
    with connection.cursor() as cursor:
        for lo in range(1, records + 1, CHUNK):
            hi = min(records, lo + CHUNK - 1)
            with transaction.atomic():
                cursor.execute(RECORD_SQL, {**params, "lo": lo, "hi": hi})
            log(f"{hi:,} access records")
        cursor.execute("VACUUM ANALYZE exchange_accessrecord")


def percentile(ordered: list[float], p: float) -> float:
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))
    return ordered[index]


def summary(name: str, seconds: list[float], queries_: int) -> dict[str, Any]:
    ordered = sorted(seconds)
    result = {
        "name": name,
        "calls": len(seconds),
        "queries": queries_,
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * percentile(ordered, 95), 2),
        "p99_ms": round(1000 * percentile(ordered, 99), 2),
    }
    log(f"{name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {queries_} queries")
    return result


def count_queries(call: Callable[[], Any]) -> int:
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return len(executed)


def timed(name: str, call: Callable[[], Any], calls: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        call()
    n = count_queries(call)
    seconds = []
    for _ in range(calls):
        t0 = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - t0)
    return summary(name, seconds, n)


def ok(client: Client, url: str) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        return response

    return call


def signed_in(user: User) -> Client:
    client = Client(headers={"accept-language": "sr"})
    client.force_login(user)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    return client


def overhead(plan: dict[str, int], calls: int, blocks: int, warmup: int) -> dict[str, Any]:
    """The official case page with the access log on and off, in alternating blocks."""
    clerk = User.objects.get(pk=plan["clerk"])
    page = ok(signed_in(clerk), reverse("official:case", args=[plan["case"]]))
    for _ in range(warmup):
        page()
        with tracker.switched_off():
            page()
    before = AccessRecord.objects.filter(case_id=plan["case"]).count()
    page()
    logged = AccessRecord.objects.filter(case_id=plan["case"]).count() - before
    if logged < 1:
        raise SystemExit("the official case page logged no read: nothing to measure")
    n_on = count_queries(page)
    with tracker.switched_off():
        n_off = count_queries(page)
    on: list[float] = []
    off: list[float] = []
    per_block = max(1, calls // blocks)
    for _block in range(blocks):
        for seconds, switched in ((on, False), (off, True)):
            for _ in range(per_block):
                if switched:
                    with tracker.switched_off():
                        t0 = time.perf_counter()
                        page()
                        seconds.append(time.perf_counter() - t0)
                else:
                    t0 = time.perf_counter()
                    page()
                    seconds.append(time.perf_counter() - t0)
    with_log = summary("GET official case page, access log on", on, n_on)
    without = summary("GET official case page, access log off", off, n_off)
    return {
        "on": with_log,
        "off": without,
        "records_per_read": logged,
        "ratio": round(with_log["p50_ms"] / without["p50_ms"], 3),
    }


def tracker_page(plan: dict[str, int], calls: int, warmup: int) -> dict[str, Any]:
    citizen = User.objects.get(email=CITIZEN)
    person = Person.objects.get(pk=plan["person"])
    mine = AccessRecord.objects.filter(subject_id=person.pk).count()
    browser = signed_in(citizen)
    url = reverse("exchange:access_log")
    first = browser.get(url)
    if first.status_code != 200 or "Марко Службеник" not in first.content.decode():
        raise SystemExit("the access-log page shows no entry")
    page = queries.page(person.pk)
    depth = queries.page(person.pk, limit=min(int(mine * 0.8), 10_000))
    deep = queries.encode_cursor(depth.rows[-1]) if depth.rows else ""
    results = [
        timed(
            "queries.page, first page",
            lambda: queries.page(person.pk),
            calls,
            warmup,
        ),
        timed("GET access-log page (first page, session)", ok(browser, url), calls, warmup),
        timed(
            "GET access-log page (deep page, cursor)",
            ok(browser, f"{url}?before={deep}"),
            calls,
            warmup,
        ),
    ]
    with CaptureQueriesContext(connection) as captured:
        queries.page(person.pk)
    sql = captured.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)
        plan_text = "\n".join(r[0] for r in cursor.fetchall())
    return {"mine": mine, "rows": len(page.rows), "results": results, "plan": plan_text}


def report(figures: dict[str, Any], args: argparse.Namespace, seconds: float) -> str:
    over = figures["overhead"]
    total = figures["total"]
    lines = [
        f"Access log of **{total:,}** records over twelve monthly partitions, "
        f"**{figures['tracker']['mine']:,}** about the measured citizen; "
        + (f"loaded in {seconds:.0f} s. " if seconds else "database reused. ")
        + f"{args.calls} timed calls per scenario after {args.warmup} untimed, one at a time, "
        "in process through Django's test client.",
        "",
        "**Overhead of logging a case read** (official case page, "
        f"{over['records_per_read']} record(s) per read, {args.blocks} alternating blocks):",
        "",
        "| scenario | p50 ms | p95 ms | p99 ms | queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in (over["on"], over["off"]):
        lines.append(
            f"| {r['name']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['queries']} |"
        )
    lines += [
        "",
        f"Ratio of medians, on / off: **{over['ratio']}** (goal ≤ 1.10).",
        "",
        "**Who accessed my data**:",
        "",
        "| scenario | p50 ms | p95 ms | p99 ms | queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in figures["tracker"]["results"]:
        lines.append(
            f"| {r['name']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['queries']} |"
        )
    lines += ["", "Plan of the page's query (first page):", "", "```", figures["tracker"]["plan"]]
    lines += ["```"]
    return "\n".join(lines)


def main() -> None:
    started = time.time()
    if not ARGS.keep:
        log(f"database {ARGS.db} (recreated), migrations")
        call_command("migrate", verbosity=0, interactive=False)
        plan = setup()
        t0 = time.time()
        load(plan, ARGS.records, ARGS.heavy, ARGS.people)
        seconds = time.time() - t0
    else:
        citizen = User.objects.get(email=CITIZEN)
        case = Case.objects.get(applicant=citizen)
        plan = {
            "case": case.pk,
            "person": citizen.person_id,
            "clerk": User.objects.get(email=CLERK).pk,
            "authority": case.authority_id,
        }
        seconds = 0.0
    call_command("collectstatic", verbosity=0, interactive=False)  # the pages link the CSS
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    figures: dict[str, Any] = {"total": AccessRecord.objects.count()}
    figures["overhead"] = overhead(plan, ARGS.calls, ARGS.blocks, ARGS.warmup)
    figures["tracker"] = tracker_page(plan, ARGS.calls, ARGS.warmup)
    text = report(figures, ARGS, seconds)
    out = Path(os.environ["SALTER_VAR_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(text + "\n")
    print(text)
    log(f"done in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
