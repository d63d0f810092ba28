"""Print the benchmark's results as markdown: the table, the ratios against the goal and the
query count of ``GET /api/v1/me``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import runpy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GOAL_RATIO = 0.70
GOAL_QUERIES = 3
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "src" / "salter" / "gunicorn.conf.py"


def verdict(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"**{100 * ratio:.0f} %** ({'meets' if ratio >= GOAL_RATIO else 'misses'} the 70 % goal)"


def qverdict(n: int) -> str:
    return f"**{n}** ({'meets' if n <= GOAL_QUERIES else 'misses'} ≤ {GOAL_QUERIES})"


def cost(s: dict[str, Any]) -> float:
    """Server and PostgreSQL CPU per request, in ms."""
    cpu = s["cpu_ms_per_request"]
    return float(cpu.get("server") or 0) + float(cpu.get("postgres") or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0)
    args = parser.parse_args()
    fixtures = json.loads(args.fixtures.read_text())
    results = json.loads(args.results.read_text())
    conf = runpy.run_path(str(GUNICORN_CONF))
    q = fixtures["queries"]
    a, b, c, d = results["scenarios"]
    session_store = "Redis (cached_db)" if os.environ.get("REDIS_URL") else "PostgreSQL (db)"
    per_trip = d["http_requests"] / d["completed"] if d["completed"] else 0
    d_server = (d["cpu_ms_per_request"].get("server") or 0) * per_trip

    lines = [
        f"## Benchmark of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {os.cpu_count()} cores (shared by server, PostgreSQL and load generator),"
        f" {platform.python_implementation()} {platform.python_version()},"
        f" {platform.system()} {platform.release()}",
        f"- server: gunicorn {conf['worker_class']}, {conf['workers']} workers ×"
        f" {conf['threads']} threads (src/salter/gunicorn.conf.py; max_requests 0, access log to"
        " a file), salter.settings.dev with DEBUG off, PostgreSQL 127.0.0.1:5432,"
        f" sessions in {session_store}",
        f"- passwords: {fixtures['password_hasher']} with Django's production parameters",
        f"- load: one asyncio process; {results['concurrency']} keep-alive connections for a, b"
        f" and c (each reconnects every 100 requests), interleaved in {results['rounds']} rounds;"
        f" {len(fixtures['users'])} seeded users; whole run {args.seconds} s",
        f"- other processes on the machine used {results['others_before']} cores just before"
        " the measurement (column 'others' load' during it)",
        "",
        results["table"],
        "",
        "One request at a time (no queueing): "
        + "; ".join(
            f"{u['name'].split(' (')[0]}: {u['per_second']:.0f} req/s, p50 {u['p50_ms']} ms,"
            f" p99 {u['p99_ms']} ms"
            for u in results["unloaded"]
        ),
        "",
        f"- GET /api/v1/me, Bearer token: {verdict(results['ratio_bearer'])} of the ceiling"
        f" (per round: {', '.join(f'{100 * r:.0f} %' for r in results['round_ratios_bearer'])})",
        f"- GET /api/v1/me, session at LoA 2: {verdict(results['ratio_session'])} of the ceiling"
        f" (per round: {', '.join(f'{100 * r:.0f} %' for r in results['round_ratios_session'])})",
        f"- CPU cost per request (server + PostgreSQL): ceiling {cost(a):.2f} ms, Bearer"
        f" {cost(b):.2f} ms, session {cost(c):.2f} ms; when CPU-bound the attainable ratios are"
        f" about {100 * cost(a) / cost(b):.0f} % and {100 * cost(a) / cost(c):.0f} %"
        if cost(b) and cost(c)
        else "- CPU cost per request: not measured",
        f"- SQL queries of GET /api/v1/me: Bearer {qverdict(q['bearer'])} (first use of a token:"
        f" {q['bearer_first']}, last_used_at is written at most hourly); session at LoA 2"
        f" {qverdict(q['session'])} (first request after login: {q['session_first']})",
        f"- login round trip: **{d['per_second']} /s**, p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms"
        f" at {d['concurrency']} concurrent logins; server CPU {d_server:.0f} ms per round trip;"
        " median per step (ms): "
        + ", ".join(f"{k} {v}" for k, v in sorted(d["steps_p50_ms"].items())),
    ]
    busiest = max(float(s["cpu_cores"].get("others") or 0) for s in results["scenarios"])
    if busiest > 0.3:
        lines.insert(
            lines.index(results["table"]),
            f"**Warning: other processes used up to {busiest} of the {os.cpu_count()} cores"
            " during the measurement; the figures are low and noisy. Run again when the"
            " machine is idle.**\n",
        )
    cores = os.cpu_count() or 1
    for s in results["scenarios"][:3]:
        used = sum(float(v or 0) for v in s["cpu_cores"].values())
        if used < 0.9 * cores:
            lines.insert(
                lines.index(results["table"]),
                f"**Warning: {s['name']} kept only {used:.2f} of the {cores} cores busy: not"
                " CPU-bound, most likely because gunicorn's workers got the connections unevenly;"
                " its figures and the ratios are not reliable. Run again.**\n",
            )
    for s in results["scenarios"]:
        if s["errors"]:
            lines.append(f"- errors in {s['name']}: {s['error_samples']}")
    lines += ["", "Queries of GET /api/v1/me (Bearer):", ""]
    lines += [f"    {sql}" for sql in q["bearer_sql"]]
    lines += ["", "Queries of GET /api/v1/me (session at LoA 2):", ""]
    lines += [f"    {sql}" for sql in q["session_sql"]]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
