"""The crash test's deployment on this machine, and what it counts afterwards.

:class:`Stack` runs what ``make run`` runs, as real processes on a database of their own
(``salter_crash``, created and dropped here; never the test database): gunicorn with the
project's ``src/salter/gunicorn.conf.py`` (through ``gunicorn_conf.py``, which adds a hook that
says when a worker serves), ``salter notify_worker`` sending to a real SMTP
server on 127.0.0.1 (:mod:`salter.mailbox.tests.smtp`), and ``salter exchange_worker`` asking
the demo registers (served by the same gunicorn) for the evidence. The workers run under a
small supervisor that starts a worker again if it exits, as systemd's ``Restart=always`` would,
and counts it. Clients are processes of their own (:mod:`tests.crash.client`).

:func:`count` reads the database directly (psycopg) and compares it with what the clients
were told; :func:`problems` says in words what is wrong, or nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from conftest import free_port

from salter.mailbox.tests.smtp import Server, smtp_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = "salter_crash"
MAIL_DOMAIN = "salter.localhost"


# --- PostgreSQL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    """The server the test database lives on (from ``DATABASE_URL``); the crash test makes a
    database of its own there."""

    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_environment(cls) -> Postgres | None:
        url = urlsplit(os.environ.get("DATABASE_URL", ""))
        if url.scheme not in ("postgres", "postgresql"):
            return None
        return cls(
            url.hostname or "127.0.0.1",
            url.port or 5432,
            url.username or "postgres",
            url.password or "",
        )

    def url(self, database: str) -> str:
        password = f":{self.password}" if self.password else ""
        return f"postgres://{self.user}{password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=database,
            connect_timeout=5,
            **kwargs,
        )

    def recreate(self, database: str) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')

    def drop(self, database: str) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def restart_command(server: Postgres) -> list[str] | None:
    """How PostgreSQL is restarted on this machine: ``SALTER_CRASH_PG_RESTART`` if set, else
    Debian's ``pg_ctlcluster`` for the local cluster on the server's port (``-m fast``: the
    server ends every session — transactions in flight are rolled back — and starts again),
    else None."""
    configured = os.environ.get("SALTER_CRASH_PG_RESTART")
    if configured:
        return configured.split()
    local = server.host in ("127.0.0.1", "localhost", "::1")
    if not local or os.geteuid() != 0 or shutil.which("pg_lsclusters") is None:
        return None
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    for line in listing.splitlines():
        version, cluster, port, status, *_rest = line.split()
        if port == str(server.port) and status.startswith("online"):
            return ["pg_ctlcluster", version, cluster, "restart", "-m", "fast"]
    return None


# --- processes ------------------------------------------------------------------------------


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # "pid (comm) state ppid …"; comm may hold spaces and parentheses
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):  # not dead
                found.add(int(stat.parent.name))
    return found


@dataclass
class Supervised:
    """A worker command started again whenever it exits, until :meth:`stop`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    restarts: int = 0
    process: subprocess.Popen[bytes] | None = None
    stopping: bool = False
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _spawn(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )

    def _watch(self) -> None:
        while not self.stopping:
            assert self.process is not None
            if self.process.poll() is not None and not self.stopping:
                self.restarts += 1
                self._spawn()
            time.sleep(0.1)

    def stop(self) -> None:
        self.stopping = True
        if self._thread is not None:
            self._thread.join(5)
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Stack:
    tmp: Path
    postgres: Postgres
    pki: Path  # the development PKI the session made (conftest.py), shared read-only
    port: int = 0
    smtp: Server | None = None
    plan_file: Path | None = None
    gunicorn: subprocess.Popen[bytes] | None = None
    workers: list[Supervised] = field(default_factory=list)
    worker_kills: int = 0
    postgres_restarts: list[float] = field(default_factory=list)  # seconds each took
    timings: dict[str, float] = field(default_factory=dict)

    # --- start and stop -------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SALTER_", "PYTEST"))}
        base.pop("REDIS_URL", None)
        assert self.smtp is not None
        return {
            **base,
            "DJANGO_SETTINGS_MODULE": "salter.settings.dev",
            "DATABASE_URL": self.postgres.url(DATABASE),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "PORT": str(self.port),
            "SALTER_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "SALTER_VAR_DIR": str(self.tmp / "var"),
            "SALTER_PKI_DIR": str(self.pki),
            "SALTER_LOG_LEVEL": "WARNING",
            "SALTER_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "SALTER_EMAIL_HOST": "127.0.0.1",
            "SALTER_EMAIL_PORT": str(self.smtp.port),
            "SALTER_MAIL_DOMAIN": MAIL_DOMAIN,
            # Short leases and pauses, so that what a dead process held is taken over within
            # the test's time; the logic is the production one.
            "SALTER_OUTBOX_LEASE_SECONDS": "3",
            "SALTER_OUTBOX_POLL_SECONDS": "0.2",
            "SALTER_OUTBOX_BACKOFF": "0.5",
            "SALTER_REGISTER_TIMEOUT_SECONDS": "5",
            "SALTER_REGISTER_LEASE_MARGIN_SECONDS": "2",
            "SALTER_REGISTER_RETRY_SECONDS": "0.5",
            "SALTER_CRASH_READY_DIR": str(self.ready_dir),
            "SALTER_WORKERS": "2",
            "SALTER_THREADS": "4",
        }

    def salter(self, *args: str) -> list[str]:
        return [str(BIN / "salter"), *args]

    def prepare(self, citizens: int) -> None:
        """The database, migrated and filled (:mod:`tests.crash.setup_data`, one process: each
        start of Django costs seconds of CPU), while gunicorn starts; then the background
        workers, once the tables exist. Returns when every process waits for work."""
        started = time.monotonic()
        self.postgres.recreate(DATABASE)
        self.plan_file = self.tmp / "plan.json"
        setup = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "tests.crash.setup_data",
                "--citizens",
                str(citizens),
                "--out",
                str(self.plan_file),
            ],
            env=self.env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.start_gunicorn()
            assert setup.stdout is not None
            for line in setup.stdout:
                if line.strip() == "migrated":
                    break
            else:
                raise AssertionError("tests.crash.setup_data did not migrate")
            self.timings["migrated"] = time.monotonic() - started
            self.start_workers()
            self.wait_ready()
        finally:
            assert setup.wait(120) == 0, "tests.crash.setup_data failed"
        self.timings["data"] = time.monotonic() - started
        self.wait_for_listeners(len(self.workers))
        while len(self.web_workers()) < int(self.env()["SALTER_WORKERS"]):
            assert time.monotonic() < started + 120, "gunicorn's workers did not start"
            time.sleep(0.05)
        self.timings["ready"] = time.monotonic() - started

    def start_gunicorn(self) -> None:
        """gunicorn's own log in ``gunicorn.log``, the application's (errors) in ``server.log``."""
        self.ready_dir.mkdir()
        argv = [
            *(str(BIN / "gunicorn"), "salter.wsgi"),
            *("-c", str(ROOT / "tests/crash/gunicorn_conf.py")),
            *("--bind", f"127.0.0.1:{self.port}", "--max-requests", "0"),
            "--no-control-socket",
            *("--access-logfile", str(self.tmp / "access.log")),
            *("--error-logfile", str(self.tmp / "gunicorn.log")),
        ]
        with (self.tmp / "server.log").open("ab") as out:
            self.gunicorn = subprocess.Popen(  # noqa: S603
                argv, env=self.env(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    def start_workers(self) -> None:
        for name, argv in (
            ("notify_worker", self.salter("notify_worker")),
            ("exchange_worker-1", self.salter("exchange_worker", "--poll", "0.5")),
            ("exchange_worker-2", self.salter("exchange_worker", "--poll", "0.5")),
        ):
            worker = Supervised(name, argv, self.env(), self.tmp / f"{name}.log")
            worker.start()
            self.workers.append(worker)

    def wait_for_listeners(self, count: int, seconds: float = 120) -> None:
        """Until ``count`` background workers wait for work (each has its ``LISTEN``
        session): a worker that is still starting is not one that survives a crash."""
        deadline = time.monotonic() + seconds
        while True:
            with self.postgres.connect(DATABASE) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND query LIKE 'LISTEN %%'",
                    [DATABASE],
                ).fetchone()
            if row and row[0] >= count:
                return
            for worker in self.workers:
                assert worker.restarts == 0, self.log_tail(f"{worker.name}.log")
            assert time.monotonic() < deadline, "the background workers did not start"
            time.sleep(0.1)

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            assert self.gunicorn is not None and self.gunicorn.poll() is None, self.log_tail()
            with suppress(OSError):
                url = f"http://127.0.0.1:{self.port}/readyz"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            assert time.monotonic() < deadline, "gunicorn did not become ready\n" + self.log_tail()
            time.sleep(0.2)

    def log_tail(self, name: str = "gunicorn.log", lines: int = 40) -> str:
        path = self.tmp / name
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(30)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait(10)

    @property
    def worker_restarts(self) -> int:
        return sum(w.restarts for w in self.workers)

    # --- what goes wrong ------------------------------------------------------------------

    @property
    def ready_dir(self) -> Path:
        return self.tmp / "ready"

    def web_workers(self) -> set[int]:
        """The gunicorn workers that have loaded the application (tests/crash/gunicorn_conf.py)."""
        assert self.gunicorn is not None
        ready = {int(p.name) for p in self.ready_dir.iterdir()}
        return children_of(self.gunicorn.pid) & ready

    def kill_web_worker(self) -> None:
        """SIGKILL the oldest gunicorn worker that serves (no handler runs; the requests it
        holds die with it). The master starts another; meanwhile the other worker serves, or,
        if it is still starting, connections wait in the listening socket's queue."""
        deadline = time.monotonic() + 60
        while not self.web_workers():
            assert time.monotonic() < deadline, "gunicorn has no worker\n" + self.log_tail()
            time.sleep(0.05)
        victim = min(self.web_workers())
        os.kill(victim, signal.SIGKILL)
        self.worker_kills += 1
        while victim in self.web_workers():  # until the master has noticed
            assert time.monotonic() < deadline, "the killed worker did not go away"
            time.sleep(0.01)

    def restart_postgres(self, command: list[str]) -> None:
        started = time.monotonic()
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603
        self.postgres.wait_until_up()
        self.postgres_restarts.append(time.monotonic() - started)

    # --- load -----------------------------------------------------------------------------

    @contextmanager
    def clients(self, name: str, processes: int, threads: int) -> Iterator[Load]:
        """Client processes submitting applications until the block ends; the block runs
        beside them (the chaos). Then they finish the submissions in hand, and what they were
        told is read."""
        assert self.plan_file is not None
        started = time.monotonic()
        load = Load(name, self.tmp / f"{name}.stop")
        for p in range(processes):
            out = self.tmp / f"{name}-{p}.json"
            argv = [
                *(sys.executable, "-m", "tests.crash.client", "--port", str(self.port)),
                *("--plan", str(self.plan_file), "--name", f"{name}{p}"),
                *("--threads", str(threads), "--first-token", str(p * threads)),
                *("--stop-file", str(load.stop_file), "--out", str(out)),
            ]
            load.running.append((subprocess.Popen(argv, cwd=ROOT), out))  # noqa: S603
        try:
            yield load
        finally:
            load.stop_file.touch()
            for process, _out in load.running:
                try:
                    process.wait(120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        for process, out in load.running:
            assert process.returncode == 0, f"a client process failed ({process.returncode})"
            load.submissions += json.loads(out.read_text())
        load.seconds = time.monotonic() - started

    def cases(self, name: str) -> int:
        """Cases stored so far for the submissions of one load."""
        with self.postgres.connect(DATABASE) as conn:
            row = conn.execute(
                "SELECT count(*) FROM cases_case WHERE idempotency_key LIKE %s",
                [f"crash-{name}%"],
            ).fetchone()
        return int(row[0]) if row else 0

    def wait_for_more_cases(self, load: Load, more: int, seconds: float = 120) -> None:
        """Until ``more`` cases of this load than now are stored: the chaos strikes a server
        that is working, however fast this machine is today."""
        wanted = self.cases(load.name) + more
        deadline = time.monotonic() + seconds
        while self.cases(load.name) < wanted:
            assert load.alive(), "the clients stopped"
            assert time.monotonic() < deadline, f"no {more} more cases in {seconds} s"
            time.sleep(0.05)

    def drain(self, keys: set[str], seconds: float = 120) -> float:
        """Wait until every notification and evidence request of these submissions' cases is
        settled (sent; answered or not found) and every sent message has reached the SMTP
        server; the seconds it took."""
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            with self.postgres.connect(DATABASE) as conn:
                pending = conn.execute(
                    """
                    SELECT (SELECT count(*) FROM mailbox_notification n
                              JOIN cases_case c ON c.id = n.case_id
                             WHERE c.idempotency_key = ANY(%(keys)s) AND n.state <> 'sent')
                         + (SELECT count(*) FROM exchange_evidencerequest e
                              JOIN cases_case c ON c.id = e.case_id
                             WHERE c.idempotency_key = ANY(%(keys)s)
                               AND e.state NOT IN ('answered', 'not_found')),
                           (SELECT array_agg(n.id) FROM mailbox_notification n
                             WHERE n.state = 'sent')
                    """,
                    {"keys": list(keys)},
                ).fetchone()
            assert pending is not None
            assert self.smtp is not None
            arrived = set(self.smtp.message_ids())
            sent = {message_id(pk) for pk in pending[1] or ()}
            if pending[0] == 0 and sent <= arrived:
                return time.monotonic() - started
            time.sleep(0.2)
        return time.monotonic() - started


@dataclass
class Load:
    name: str
    stop_file: Path
    running: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def keys(self) -> set[str]:
        return {s["key"] for s in self.submissions}

    def alive(self) -> bool:
        return any(process.poll() is None for process, _out in self.running)


@contextmanager
def running_stack(tmp: Path, postgres: Postgres, pki: Path, citizens: int) -> Iterator[Stack]:
    with smtp_server() as smtp:
        stack = Stack(tmp, postgres, pki, port=free_port(), smtp=smtp)
        try:
            stack.prepare(citizens)
            yield stack
        finally:
            stack.stop()
            postgres.drop(DATABASE)


def message_id(pk: int) -> str:
    return f"<notification-{pk}@{MAIL_DOMAIN}>"


# --- counting -------------------------------------------------------------------------------

FAILED_ATTEMPT = re.compile(r"^(?!20[01]$|abandoned$)")


def count(stack: Stack, load: Load, *, drained: float) -> dict[str, Any]:
    """What the clients were told against what the database holds and the SMTP server got."""
    submissions = load.submissions
    keys = [s["key"] for s in submissions]
    acks = {s["key"]: s["ack"] for s in submissions if "ack" in s}
    attempts = [a for s in submissions for a in s["attempts"]]
    with stack.postgres.connect(DATABASE) as conn:
        cases = conn.execute(
            "SELECT idempotency_key, id, registry_number FROM cases_case"
            " WHERE idempotency_key = ANY(%s)",
            [keys],
        ).fetchall()
        books = conn.execute(
            """
            SELECT c.book_id, c.year, count(*), count(DISTINCT c.number), min(c.number),
                   max(c.number), max(r.last_number)
              FROM cases_case c
              JOIN authorities_registrycounter r ON r.book_id = c.book_id AND r.year = c.year
             GROUP BY c.book_id, c.year
            """
        ).fetchall()
        notifications = conn.execute(
            """
            SELECT n.id, n.case_id, n.state FROM mailbox_notification n
              JOIN cases_case c ON c.id = n.case_id WHERE c.idempotency_key = ANY(%s)
            """,
            [keys],
        ).fetchall()
        evidence = conn.execute(
            """
            SELECT e.id, e.case_id, e.state, e.attempts,
                   (SELECT count(*) FROM cases_caseevent v
                     WHERE v.case_id = e.case_id AND v.kind = 'evidence'
                       AND (v.payload ->> 'evidence')::bigint = e.id)
              FROM exchange_evidencerequest e
              JOIN cases_case c ON c.id = e.case_id WHERE c.idempotency_key = ANY(%s)
            """,
            [keys],
        ).fetchall()
        queries = conn.execute(
            """
            SELECT count(*) FROM exchange_exchangemessage m
              JOIN cases_case c ON c.id = m.case_id WHERE c.idempotency_key = ANY(%s)
            """,
            [keys],
        ).fetchone()
    stored = Counter(key for key, _id, _number in cases)
    case_of = {key: (pk, number) for key, pk, number in cases}
    assert stack.smtp is not None
    arrivals = stack.smtp.message_ids()
    mine = {message_id(pk) for pk, _case, _state in notifications}
    receipts = Counter(case for _pk, case, _state in notifications)
    return {
        "scenario": load.name,
        "seconds": round(load.seconds, 1),
        "drain_seconds": round(drained, 1),
        "submissions": len(submissions),
        "http_attempts": len(attempts),
        "failed_attempts": Counter(a for a in attempts if FAILED_ATTEMPT.match(a)),
        "acknowledged": len(acks),
        "acknowledged_201": sum(1 for a in acks.values() if a["status"] == 201),
        "acknowledged_200": sum(1 for a in acks.values() if a["status"] == 200),
        "abandoned": sum(1 for s in submissions if s["attempts"][0] == "abandoned"),
        "abandoned_then_200": sum(
            1
            for s in submissions
            if s["attempts"][0] == "abandoned" and s.get("ack", {}).get("status") == 200
        ),
        "refused": [s for s in submissions if "refused" in s],
        "not_acknowledged": [s["key"] for s in submissions if "ack" not in s],
        "stored": len(cases),
        "duplicates": sum(n - 1 for n in stored.values() if n > 1),
        "lost": sorted(k for k in acks if k not in stored),
        "wrong_case": sorted(
            k
            for k, a in acks.items()
            if k in case_of and case_of[k] != (a["id"], a["registry_number"])
        ),
        "unacknowledged_stored": sorted(k for k in stored if k not in acks),
        "books": [
            {
                "book": b,
                "year": y,
                "cases": n,
                "distinct": d,
                "first": lo,
                "last": hi,
                "counter": counter,
            }
            for b, y, n, d, lo, hi, counter in books
        ],
        "notifications": len(notifications),
        "cases_without_receipt": sum(1 for key in acks if receipts[case_of.get(key, (0,))[0]] < 1),
        "notifications_not_sent": sum(1 for _pk, _case, state in notifications if state != "sent"),
        "messages_arrived": sum(arrivals[m] for m in mine),
        "messages_missing": sorted(m for m in mine if arrivals[m] == 0),
        "messages_repeated": sum(arrivals[m] - 1 for m in mine if arrivals[m] > 1),
        "evidence_requests": len(evidence),
        "evidence_unsettled": sum(1 for e in evidence if e[2] not in ("answered", "not_found")),
        "evidence_saved_not_once": sum(1 for e in evidence if e[4] != 1),
        "register_queries": queries[0] if queries else 0,
        "worker_kills": stack.worker_kills,
        "postgres_restarts": len(stack.postgres_restarts),
        "background_restarts": stack.worker_restarts,
    }


def problems(figures: dict[str, Any], *, repeats_allowed: int) -> list[str]:
    """Everything that breaks the promise, in words; empty when nothing does."""
    found = []
    if figures["refused"]:
        found.append(f"refused submissions: {figures['refused'][:3]}")
    if figures["not_acknowledged"]:
        found.append(f"never acknowledged: {figures['not_acknowledged'][:5]}")
    for name in ("lost", "wrong_case", "unacknowledged_stored"):
        if figures[name]:
            found.append(f"{name}: {figures[name][:5]}")
    if figures["duplicates"]:
        found.append(f"{figures['duplicates']} duplicate case(s)")
    if figures["stored"] != figures["acknowledged"]:
        found.append(f"{figures['stored']} cases stored for {figures['acknowledged']} acks")
    for book in figures["books"]:
        if not (
            book["cases"] == book["distinct"] == book["last"] == book["counter"]
            and book["first"] == 1
        ):
            found.append(f"registry numbers with a gap or a duplicate: {book}")
    if figures["cases_without_receipt"]:
        found.append(f"{figures['cases_without_receipt']} case(s) without their receipt")
    if figures["notifications"] != figures["acknowledged"]:
        found.append(f"{figures['notifications']} notifications for {figures['acknowledged']}")
    if figures["notifications_not_sent"] or figures["messages_missing"]:
        found.append(
            f"notifications not sent: {figures['notifications_not_sent']}, "
            f"not arrived: {figures['messages_missing'][:5]}"
        )
    if figures["messages_repeated"] > repeats_allowed:
        found.append(f"{figures['messages_repeated']} message(s) arrived more than once")
    if figures["evidence_requests"] != 2 * figures["acknowledged"]:
        found.append(
            f"{figures['evidence_requests']} evidence requests for {figures['acknowledged']} cases"
        )
    if figures["background_restarts"]:
        found.append(
            f"background workers ended and were started again: {figures['background_restarts']}"
        )
    if figures["evidence_unsettled"] or figures["evidence_saved_not_once"]:
        found.append(
            f"evidence unsettled: {figures['evidence_unsettled']}, "
            f"outcome not saved exactly once: {figures['evidence_saved_not_once']}"
        )
    return found


def summary(figures: dict[str, Any]) -> str:
    """The figures in a sentence, as docs/benchmarks.md quotes them."""
    f = figures
    failed = sum(f["failed_attempts"].values())
    why = ", ".join(f"{n} {k}" for k, n in sorted(f["failed_attempts"].items()))
    why = f" — {why}" if why else ""
    numbers = "; ".join(
        f"book {b['book']}/{b['year']}: {b['cases']} cases numbered {b['first']}–{b['last']}, "
        f"{b['distinct']} distinct, counter at {b['counter']}"
        for b in f["books"]
    )
    return (
        f"{f['submissions']} submissions in {f['seconds']} s ({f['http_attempts']} HTTP "
        f"attempts: {f['abandoned']} abandoned on purpose, {failed} failed{why}); "
        f"acknowledged {f['acknowledged']} ({f['acknowledged_201']} × 201, "
        f"{f['acknowledged_200']} × 200 — {f['abandoned_then_200']} of them after an abandoned "
        f"attempt); stored {f['stored']}; duplicates {f['duplicates']}; lost {len(f['lost'])}; "
        f"{numbers}; receipts {f['notifications']}, sent and arrived {f['messages_arrived']} "
        f"({f['messages_repeated']} repeated); evidence requests {f['evidence_requests']}, "
        f"settled {f['evidence_requests'] - f['evidence_unsettled']}, outcome saved once: "
        f"{f['evidence_requests'] - f['evidence_saved_not_once']} ({f['register_queries']} "
        f"register queries); gunicorn workers killed {f['worker_kills']}; PostgreSQL restarts "
        f"{f['postgres_restarts']}; background workers restarted {f['background_restarts']}; "
        f"drained in {f['drain_seconds']} s"
    )
