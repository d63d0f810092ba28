"""Time the case reads in process, on the benchmark database: p50/p99 and query counts.

    python benchmarks/cases_reads.py --label "1,000,000 cases" --out var/bench-cases/reads.json

Calls the query functions the pages and the API call — ``queries.my_cases``,
``queries.case_with_timeline``, ``queries.work_queue`` — directly through Django on the real
PostgreSQL connection (``DATABASE_URL``), many times each, and records the wall time of every
call. The inputs are drawn at random over the whole table (seeded, so two runs read the same
rows): the cases of random applicants, random cases with their timelines, seen by their
applicant and by an official of their authority. The queue is the clerk's of the first
authority: its first page, and a *deep* page — the 50 tasks after the task at 80 % of the
queue, reached with the keyset cursor as "Next page" would. The plans of the queue's task query
(``EXPLAIN ANALYZE``) are written beside the results.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from salter.cases import queries  # noqa: E402
from salter.cases.access import ROLE_BITS  # noqa: E402
from salter.cases.models import Case  # noqa: E402
from salter.identity.models import Role, User  # noqa: E402


def plan() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT plan FROM bench_cases_plan")
        raw = cursor.fetchone()[0]
    return json.loads(raw) if isinstance(raw, str) else raw


def percentile(ordered: list[float], p: float) -> float:
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))
    return ordered[index]


def timed(name: str, calls: list[Callable[[], Any]], warmup: int) -> dict[str, Any]:
    """Run every call once after ``warmup`` untimed ones; count the queries of the first."""
    for call in calls[:warmup]:
        call()
    with CaptureQueriesContext(connection) as captured:
        first = calls[0]()
    seconds = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - t0)
    ordered = sorted(seconds)
    rows = len(first) if isinstance(first, list) else len(getattr(first, "events", []) or [])
    result = {
        "name": name,
        "calls": len(seconds),
        "queries": len(captured),
        "rows": rows,
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * percentile(ordered, 99), 2),
        "max_ms": round(1000 * ordered[-1], 2),
    }
    print(
        f"  {name}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms,"
        f" {result['queries']} queries, {rows} rows",
        file=sys.stderr,
        flush=True,
    )
    return result


def explain(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())


def queue_sql(user: User, after: Any) -> tuple[str, Any]:
    """The SQL of the queue's task query, as work_queue sends it."""
    with CaptureQueriesContext(connection) as captured:
        queries.work_queue(user, after=after, limit=51)
    return next(
        q["sql"]
        for q in captured
        if q["sql"].split(" FROM ", 1)[1].lstrip().startswith('"cases_task"')
    ), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per run")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--plans", type=Path, help="write EXPLAIN ANALYZE of the queue here")
    args = parser.parse_args()
    if not connection.settings_dict["NAME"].startswith("salter_bench_cases"):
        raise SystemExit("the database name must start with salter_bench_cases")
    if not 10 <= args.calls <= 100_000 or not 0 <= args.warmup <= args.calls:
        raise SystemExit("calls 10–100,000, warmup 0–calls")
    found = plan()
    rng = random.Random(2026)
    n_cases = Case.objects.order_by("-id").values_list("id", flat=True)[:1][0]
    heavy = User.objects.get(pk=found["heavy_applicant"])

    # Random applicants, weighted as the cases are: the applicants of random cases.
    picked = [rng.randint(1, n_cases) for _ in range(args.calls)]
    applicant_of = dict(Case.objects.filter(pk__in=picked).values_list("pk", "applicant_id"))
    authority_of = dict(Case.objects.filter(pk__in=picked).values_list("pk", "authority_id"))
    users = User.objects.in_bulk(set(applicant_of.values()))
    clerks = {a["authority"]: User.objects.get(pk=a["clerk"]) for a in found["authorities"]}
    picked = [pk for pk in picked if pk in applicant_of]

    clerk = clerks[found["authorities"][0]["authority"]]
    mask = ROLE_BITS[Role.CLERK]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM cases_task WHERE authority_id = %s AND role_mask & %s > 0",
            [found["authorities"][0]["authority"], mask],
        )
        queue_length = cursor.fetchone()[0]
    depth = int(queue_length * 0.8)
    items_before = queries.work_queue(clerk, limit=depth + 1)  # untimed: find the position
    deep_after = queries.queue_position(items_before[-1]) if items_before else None
    del items_before

    results = [
        timed(
            "my_cases, heavy applicant (200 cases; page of 50)",
            [lambda: queries.my_cases(heavy)] * args.calls,
            args.warmup,
        ),
        timed(
            "my_cases, random applicants",
            [lambda u=users[applicant_of[pk]]: queries.my_cases(u) for pk in picked],
            args.warmup,
        ),
        timed(
            "case_with_timeline, random cases, as the applicant",
            [
                lambda pk=pk: queries.case_with_timeline(pk, users[applicant_of[pk]])
                for pk in picked
            ],
            args.warmup,
        ),
        timed(
            "case_with_timeline, random cases, as an official",
            [
                lambda pk=pk: queries.case_with_timeline(pk, clerks[authority_of[pk]])
                for pk in picked
            ],
            args.warmup,
        ),
        timed(
            "work_queue, first page of 50",
            [lambda: queries.work_queue(clerk, limit=50)] * args.calls,
            args.warmup,
        ),
        timed(
            f"work_queue, deep page of 50 (after task {depth} of {queue_length})",
            [lambda: queries.work_queue(clerk, after=deep_after, limit=50)] * args.calls,
            args.warmup,
        ),
    ]
    record = {
        "label": args.label,
        "cases": n_cases,
        "queue_length": queue_length,
        "deep_after": depth,
        "deep_cursor": queries.encode_position(deep_after) if deep_after else "",
        "heavy_case": Case.objects.filter(applicant=heavy).order_by("-id")[0].pk,
        "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "results": results,
    }
    with args.out.open("a") as f:
        f.write(json.dumps(record) + "\n")
    if args.plans:
        parts = [f"# {args.label}: {n_cases} cases, the clerk's queue has {queue_length} tasks"]
        for title, after in (("first page", None), (f"deep page (after {depth})", deep_after)):
            sql, params = queue_sql(clerk, after)
            parts += [f"## work_queue, {title}", sql, explain(sql, params)]
        with args.plans.open("a") as f:
            f.write("\n\n".join(parts) + "\n\n")


if __name__ == "__main__":
    main()
