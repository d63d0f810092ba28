"""Load generator for ``make benchmark-cases``: submissions per second over HTTP, beside a ceiling.

Uses the connection, scenario runner and CPU meter of ``benchmarks/load.py`` (asyncio, HTTP/1.1
keep-alive, loopback only, every loop bounded) against gunicorn started with
``benchmarks/bench_settings.py``. Scenarios, interleaved in rounds so that a burst of other
work on the machine hits both alike:

p. ``POST /bench/api/ping`` — token auth + ``write`` scope + a JSON body + one INSERT: the ceiling;
s. ``POST /api/v1/cases`` — a newborn-aid application with a new idempotency key each time,
   to the authorities in turn, by 64 citizens' tokens; answered 201 with the case.

Before that, one request at a time, the reads over HTTP with a token: my cases (the heavy
applicant), a case with its timeline, and the officials' queue — first page and a deep page
reached with its cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any

from load import (
    Connection,
    CpuMeter,
    Operation,
    Result,
    run_scenario,
    wait_for_quiet,
)

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
JSON = "application/json"


def post_json(body: Any, bearer: str) -> tuple[dict[str, str], bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    return {"Authorization": f"Bearer {bearer}", "Content-Type": JSON}, data


def ping(tokens: list[str]) -> Operation:
    async def operation(conn: Connection, result: Result, index: int, worker: int) -> bool:
        headers, body = post_json({"key": uuid.uuid4().hex}, tokens[worker % len(tokens)])
        response = await conn.request("POST", "/bench/api/ping", headers, body)
        result.requests += 1
        if response.status != 201:
            result.error(f"ping: {response.status} {response.body[:200]!r}")
            return False
        return True

    return operation


def submit(tokens: list[str], services: list[str]) -> Operation:
    async def operation(conn: Connection, result: Result, index: int, worker: int) -> bool:
        submission = {
            "service": services[index % len(services)],
            "data": NEWBORN_FORM,
            "idempotency_key": f"bench-{uuid.uuid4().hex}",
        }
        headers, body = post_json(submission, tokens[worker % len(tokens)])
        response = await conn.request("POST", "/api/v1/cases", headers, body)
        result.requests += 1
        if response.status != 201 or b'"registry_number"' not in response.body:
            result.error(f"submit: {response.status} {response.body[:300]!r}")
            return False
        return True

    return operation


def get(path: str, bearer: str, must_contain: bytes) -> Operation:
    async def operation(conn: Connection, result: Result, index: int, worker: int) -> bool:
        response = await conn.request("GET", path, {"Authorization": f"Bearer {bearer}"})
        result.requests += 1
        if response.status != 200 or must_contain not in response.body:
            result.error(f"GET {path}: {response.status} {response.body[:200]!r}")
            return False
        return True

    return operation


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    plan = json.loads(args.plan.read_text())
    reads = json.loads(args.reads.read_text().splitlines()[-1])
    tokens = plan["submit_tokens"]
    services = [f"{a['code']}/newborn-aid" for a in plan["authorities"]]
    meter = CpuMeter(args.server_pid, args.database)
    queue = "/api/v1/cases/queue?limit=50"
    read_scenarios: list[tuple[str, Operation]] = [
        ("GET /api/v1/cases (heavy applicant)", get("/api/v1/cases", plan["heavy_token"], b"[")),
        (
            "GET /api/v1/cases/{id} (with timeline)",
            get(f"/api/v1/cases/{reads['heavy_case']}", plan["heavy_token"], b'"timeline"'),
        ),
        ("GET /api/v1/cases/queue (first page)", get(queue, plan["clerk_token"], b"case_id")),
        (
            "GET /api/v1/cases/queue?after=… (deep page)",
            get(f"{queue}&after={reads['deep_cursor']}", plan["clerk_token"], b"case_id"),
        ),
    ]
    for name, operation in read_scenarios:  # warm every worker
        await run_scenario(name, args.port, 4, 1.0, operation)
    others = wait_for_quiet(meter, args.quiet_below, args.quiet_wait)
    print(f"  other processes used {others:.2f} cores just before the measurement")
    unloaded = []
    for name, operation in read_scenarios:
        result = await run_scenario(name, args.port, 1, args.unloaded, operation)
        unloaded.append(result.summary())
        print(f"  {name}: p50 {unloaded[-1]['p50_ms']} ms, p99 {unloaded[-1]['p99_ms']} ms")

    writes: list[tuple[str, Operation]] = [
        ("p. POST /bench/api/ping (ceiling: one INSERT)", ping(tokens)),
        ("s. POST /api/v1/cases (newborn aid)", submit(tokens, services)),
    ]
    pool = [Connection(args.port) for _i in range(args.concurrency)]
    for name, operation in writes:
        await run_scenario(name, args.port, args.concurrency, args.warmup, operation, pool=pool)
    results = [Result(name, args.concurrency) for name, _op in writes]
    rng = random.Random(7)
    for round_no in range(args.rounds):
        print(f"  round {round_no + 1}/{args.rounds}: ping, submit …")
        order = list(zip(writes, results, strict=True))
        rng.shuffle(order)
        for (name, operation), result in order:
            done_before, seconds_before = len(result.latencies), result.seconds
            before = meter.snapshot()
            await run_scenario(
                name,
                args.port,
                args.concurrency,
                args.duration / args.rounds,
                operation,
                into=result,
                pool=pool,
            )
            meter.add(before, meter.snapshot(), result.cpu)
            result.round_rates.append(
                (len(result.latencies) - done_before) / (result.seconds - seconds_before)
            )
    for conn in pool:
        await conn.close()
    summaries = [r.summary() for r in results]
    ceiling = summaries[0]["per_second"]
    return {
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "others_before": round(others, 2),
        "reads_over_http": unloaded,
        "writes": summaries,
        "ratio": round(summaries[1]["per_second"] / ceiling, 3) if ceiling else None,
        "round_ratios": [
            round(s / p, 3) if p else None
            for p, s in zip(results[0].round_rates, results[1].round_rates, strict=True)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="the generator's plan (JSON)")
    parser.add_argument("--reads", type=Path, required=True, help="cases_reads.py's output")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--database", default="salter_bench_cases")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--unloaded", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=18.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quiet-below", type=float, default=0.3)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 256 or not 1 <= args.rounds <= 20:
        raise SystemExit("concurrency 1–256, rounds 1–20")
    if not (0 <= args.warmup <= 30 and 0 < args.duration <= 300 and 0 < args.unloaded <= 30):
        raise SystemExit("durations out of range")
    report = asyncio.run(main_async(args))
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({"ratio": report["ratio"], "round_ratios": report["round_ratios"]}))
    for s in report["writes"]:
        print(f"  {s['name']}: {s['per_second']}/s, p50 {s['p50_ms']} ms, errors {s['errors']}")
        for sample in s["error_samples"]:
            print(f"    {sample}", file=sys.stderr)


if __name__ == "__main__":
    main()
