"""Notifications (issue 5): how many notifications per second the outbox sends to a local SMTP
server, and the delay from the commit that queued one to its arrival at the server.

    make benchmark-notifications   # = python -m benchmarks.notifications (PostgreSQL)

1. Recreates the PostgreSQL database ``salter_bench_notifications`` (``BENCH_DB``) on
   127.0.0.1:5432 and migrates it; makes 1,000 recipients.
2. Starts an SMTP server (aiosmtpd) on 127.0.0.1 in a process of its own. It notes when it has
   each whole message (after the final dot), by Message-ID.
3. **Throughput.** Commits ``--count`` notifications (the digest template, rendered in the
   recipient's language, 500 per transaction) with no worker running; then starts
   ``--workers`` real ``salter notify_worker`` processes and waits until every notification has
   arrived. Rate = notifications ÷ (last arrival − first arrival), so the workers' start-up is
   not counted. Repeated for each worker count given (``--workers 1,2``).
4. **Delay.** With the first count of workers idle (LISTENing), commits one notification per
   transaction at each of ``--rates`` per second for ``--seconds``. Delay = arrival at the
   server − the moment the commit returned (both ``time.time()`` on this machine). p50, p99
   and the maximum.
5. Checks that every notification arrived exactly once and every row is ``sent``; prints
   markdown (also in ``var/bench-notifications/results.md``).

Everything stays on 127.0.0.1. The workers run with ``salter.settings.dev`` (DEBUG off) and SMTP
to the server above; batch, lease and poll are the project's defaults.
"""

from __future__ import annotations

import argparse
import email
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_DB", "salter_bench_notifications")
if not DB.startswith("salter_bench"):
    raise SystemExit("BENCH_DB must start with salter_bench (it is dropped)")
OUT = ROOT / "var" / "bench-notifications"
OUT.mkdir(parents=True, exist_ok=True)
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.update(
    DJANGO_SETTINGS_MODULE="salter.settings.dev",
    SALTER_DEBUG="",
    SALTER_VAR_DIR=str(OUT),
    SALTER_LOG_LEVEL="WARNING",
    DATABASE_URL=DATABASE_URL,
    SALTER_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    SALTER_EMAIL_HOST="127.0.0.1",
)
os.environ.pop("REDIS_URL", None)

import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402


def recreate_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DB}"')


def serve_smtp(port: int, arrivals: Any, ready: Any) -> None:
    """The SMTP server, in a process of its own (as a real one would be): it puts
    (Message-ID, time the whole message was in) on the ``arrivals`` queue."""

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            now = time.time()
            arrivals.put((str(email.message_from_bytes(envelope.content)["Message-ID"]), now))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()  # until the benchmark terminates this process


class Arrivals:
    """When each Message-ID arrived at the server, collected from its queue."""

    def __init__(self, queue: Any) -> None:
        self.at: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.queue = queue
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        while True:
            message_id, at = self.queue.get()
            with self.lock:
                self.at.setdefault(message_id, []).append(at)

    def count(self, ids: list[str]) -> int:
        with self.lock:
            return sum(1 for i in ids if i in self.at)

    def wait(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(ids) == len(ids):
                return True
            time.sleep(0.02)
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores the whole machine kept busy over ``seconds`` (Linux /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (os.cpu_count() or 1) * (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_quiet(limit: float, max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) until other processes use less than ``limit`` cores."""
    deadline = time.monotonic() + max_wait
    busy = busy_cores()
    while busy >= limit and time.monotonic() < deadline:
        print(
            f"  other processes use {busy:.2f} cores; waiting for a quieter moment …",
            file=sys.stderr,
        )
        time.sleep(4)
        busy = busy_cores()
    return busy


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="notifications, throughput")
    parser.add_argument("--workers", default="1,2", help="worker processes, e.g. 1,2")
    parser.add_argument("--rates", default="50,200", help="commits per second, delay runs")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of a delay run")
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="seconds, at most")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    if not (
        1 <= args.count <= 200_000
        and all(1 <= w <= 8 for w in worker_counts)
        and all(0 < r <= 1000 for r in rates)
        and 0 < args.seconds <= 600
    ):
        raise SystemExit("count, workers, rate or seconds out of range")

    started = time.monotonic()
    print(f"== database {DB} (recreated), migrations", file=sys.stderr)
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from salter.identity.models import User
    from salter.mailbox import outbox
    from salter.mailbox.models import Notification

    call_command("migrate", verbosity=0)
    users = User.objects.bulk_create(
        [
            User(
                email=f"primalac{i}@example.rs",
                full_name=f"Прималац {i}",
                password="!",  # noqa: S106 — an unusable password
                language=("sr", "sr-latn", "en")[i % 3],
            )
            for i in range(1000)
        ]
    )
    context = {
        "counts": {"queue": 3, "assigned": 1, "due_soon": 1, "overdue": 0},
        "day": timezone.localdate(),
        "path": "/official/cases/queue/",
    }

    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    queue, ready = spawn.Queue(), spawn.Event()
    smtp = spawn.Process(target=serve_smtp, args=(port, queue, ready), daemon=True)
    smtp.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP server did not start")
    arrivals = Arrivals(queue)
    env = {**os.environ, "SALTER_EMAIL_PORT": str(port)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))

    def start_workers(n: int) -> list[subprocess.Popen[bytes]]:
        command = [sys.executable, "-m", "salter", "notify_worker"]
        return [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(n)
        ]

    def stop(workers: list[subprocess.Popen[bytes]]) -> None:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait(10)

    all_ids: list[str] = []
    throughput: list[dict[str, Any]] = []
    others: list[float] = []
    for n in worker_counts:
        others.append(wait_for_quiet(0.3, args.quiet_wait))
        print(f"== throughput: {args.count} notifications, {n} worker(s)", file=sys.stderr)
        ids: list[str] = []
        for first in range(0, args.count, 500):
            with transaction.atomic():
                chunk = [users[i % len(users)] for i in range(first, min(args.count, first + 500))]
                ids += [r.message_id for r in outbox.enqueue(chunk, outbox.CASE, TEMPLATE, context)]
        workers = start_workers(n)
        deadline = time.monotonic() + 60
        while arrivals.count(ids) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        cpu_at_first = sum(cpu_seconds(w.pid) for w in workers)  # start-up done
        if not arrivals.wait(ids, timeout=max(60.0, args.count / 20)):
            stop(workers)
            raise SystemExit(f"only {arrivals.count(ids)} of {len(ids)} arrived")
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_at_first
        stop(workers)
        times = sorted(arrivals.at[i][0] for i in ids)
        span = times[-1] - times[0]
        throughput.append(
            {
                "workers": n,
                "count": len(ids),
                "seconds": span,
                "rate": (len(ids) - 1) / span,
                "worker_cpu_ms": 1000 * cpu / len(ids),
            }
        )
        all_ids += ids

    n = worker_counts[0]
    delay_rows: list[dict[str, Any]] = []
    for rate in rates:
        quiet = wait_for_quiet(0.3, args.quiet_wait)
        total = int(rate * args.seconds)
        print(f"== delay: {total} commits at {rate:g}/s, {n} worker(s) waiting", file=sys.stderr)
        workers = start_workers(n)
        time.sleep(3)  # started and LISTENing
        committed: dict[str, float] = {}
        begin = time.monotonic()
        for i in range(total):
            pause = begin + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with transaction.atomic():
                (row,) = outbox.notify(users[i % len(users)], outbox.CASE, TEMPLATE, context)
            committed[row.message_id] = time.time()
        ids = list(committed)
        arrivals.wait(ids, timeout=60)
        stop(workers)
        all_ids += ids
        delays = [1000 * (arrivals.at[i][0] - committed[i]) for i in ids if i in arrivals.at]
        delay_rows.append({"rate": rate, "count": len(delays), "delays": delays, "quiet": quiet})

    time.sleep(0.5)  # the last arrivals off the queue
    smtp.terminate()
    smtp.join(10)
    repeats = sum(len(arrivals.at.get(i, [])) - 1 for i in all_ids if i in arrivals.at)
    lost = sum(1 for i in all_ids if i not in arrivals.at)
    states = Counter(Notification.objects.values_list("state", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg,) = cursor.fetchone() or ("?",)

    lines = [
        f"Notifications through the outbox, {time.strftime('%Y-%m-%d %H:%M')} local, "
        f"{os.cpu_count()} cores, PostgreSQL {pg}, Python {platform.python_version()}, "
        f"{round(time.monotonic() - started)} s in all.",
        "",
        "| workers | notifications | sent/s | worker CPU ms per notification |",
        "|---:|---:|---:|---:|",
        *(
            f"| {t['workers']} | {t['count']} | **{t['rate']:.0f}** | {t['worker_cpu_ms']:.2f} |"
            for t in throughput
        ),
        "",
        f"Commit → arrival at the SMTP server; notifications committed one per transaction at a "
        f"steady rate, {n} worker(s) waiting on LISTEN:",
        "",
        "| commits/s | notifications | p50 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {d['rate']:g} | {d['count']} | **{statistics.median(d['delays']):.1f}** "
            f"| **{percentile(d['delays'], 99):.1f}** | {max(d['delays']):.1f} |"
            for d in delay_rows
        ),
        "",
        "Other processes used "
        + ", ".join(f"{o:.2f}" for o in others)
        + " cores before the throughput runs and "
        + ", ".join(f"{d['quiet']:.2f}" for d in delay_rows)
        + " before the delay runs.",
        "",
        f"Check: {len(all_ids)} notifications, {lost} lost, {repeats} repeated; rows by state: "
        + ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
    ]
    text = "\n".join(lines)
    (OUT / "results.md").write_text(text + "\n")
    print(text)
    if lost or repeats or set(states) != {"sent"}:
        raise SystemExit(1)


TEMPLATE = "mailbox/notifications/digest.txt"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
