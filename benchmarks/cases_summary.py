"""Print the results of ``make benchmark-cases`` as markdown (from the files in --dir)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

GOALS = {
    "my_cases": (10, 50),
    "case_with_timeline": (10, 50),
    "work_queue": (None, 50),
}


def goal(name: str) -> tuple[float | None, float]:
    return GOALS[name.split(",", 1)[0]]


def verdict(result: dict[str, Any]) -> str:
    p50_goal, p99_goal = goal(result["name"])
    ok = result["p99_ms"] < p99_goal and (p50_goal is None or result["p50_ms"] < p50_goal)
    return "yes" if ok else "**no**"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0)
    args = parser.parse_args()
    reads = lines(args.dir / "reads.json")
    grows = lines(args.dir / "grow.json")
    out: list[str] = ["## Case reads in process (p50 / p99 ms, queries)", ""]
    header = "| read | " + " | ".join(f"{r['cases']:,} cases" for r in reads) + " | goal | met |"
    out += [header, "|---|" + "---:|" * len(reads) + "---|---|"]
    for i, first in enumerate(reads[0]["results"]):
        cells = []
        for run in reads:
            r = run["results"][i]
            cells.append(f"{r['p50_ms']} / {r['p99_ms']} ({r['queries']} q)")
        p50_goal, p99_goal = goal(first["name"])
        wanted = f"p50 < {p50_goal}, p99 < {p99_goal}" if p50_goal else f"< {p99_goal}"
        met = " ".join(verdict(run["results"][i]) for run in reads)
        name = first["name"].split(" (after")[0]
        out.append(f"| {name} | " + " | ".join(cells) + f" | {wanted} | {met} |")
    out.append("")
    for run in reads:
        out.append(
            f"- {run['cases']:,} cases: the clerk's queue holds {run['queue_length']:,} tasks;"
            f" the deep page starts after task {run['deep_after']:,}. {run['at']}."
        )
    load_file = args.dir / "load.json"
    if load_file.exists():
        load = json.loads(load_file.read_text())
        out += ["", "## Reads over HTTP, one request at a time (API token)", ""]
        out += ["| request | p50 ms | p99 ms | requests |", "|---|---:|---:|---:|"]
        for r in load["reads_over_http"]:
            out.append(f"| {r['name']} | {r['p50_ms']} | {r['p99_ms']} | {r['completed']} |")
        out += ["", f"## Submissions over HTTP ({load['concurrency']} connections)", ""]
        out += [
            "| scenario | per s | p50 ms | p99 ms | done | errors | server CPU ms | PG CPU ms"
            " | others' load |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in load["writes"]:
            cpu, cores = r["cpu_ms_per_request"], r["cpu_cores"]
            out.append(
                f"| {r['name']} | {r['per_second']} | {r['p50_ms']} | {r['p99_ms']} |"
                f" {r['completed']} | {r['errors']} | {cpu.get('server')} | {cpu.get('postgres')}"
                f" | {cores.get('others')} cores |"
            )
        ratio = load["ratio"]
        rounds = ", ".join(f"{100 * r:.0f} %" for r in load["round_ratios"] if r is not None)
        out += [
            "",
            f"Submissions reach **{100 * ratio:.0f} %** of the ceiling (goal ≥ 50 %; per round"
            f" {rounds}). Other processes used {load['others_before']} cores before the run.",
        ]
    check = args.dir / "check.txt"
    if check.exists():
        made, distinct = check.read_text().strip().split("|")
        out.append(
            f"Cases registered during the run: {made}; distinct registry numbers: {distinct}."
        )
    out += ["", "## Data generation (seconds)", ""]
    out += [
        "| grown to | cases | events | tasks | index rebuild | vacuum analyze | total |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in grows:
        out.append(
            f"| {g['to']:,} | {g.get('cases', 0):.0f} | {g.get('events', 0):.0f} |"
            f" {g.get('tasks', 0):.0f} | {g.get('indexes', 0):.0f} |"
            f" {g.get('vacuum_analyze', 0):.0f} | {g.get('total', 0):.0f} |"
        )
    if grows:
        last = grows[-1]
        out.append(
            f"\nRows: {last.get('rows_cases_case', 0):,.0f} cases,"
            f" {last.get('rows_cases_caseevent', 0):,.0f} events,"
            f" {last.get('rows_cases_task', 0):,.0f} tasks."
        )
    if args.seconds:
        out.append(f"\nThe whole benchmark took {args.seconds} s.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
