"""A crash under load loses nothing (issue 19): real processes, real signals, a real restart.

Clients in processes of their own submit newborn-aid applications over HTTP to gunicorn and
retry every unacknowledged attempt with the same idempotency key (:mod:`tests.crash.client`),
while the test

* **kills gunicorn workers** with SIGKILL (the master starts new ones), then, separately,
* **restarts PostgreSQL** (every session of the server ends, transactions in flight roll back).

Then it counts (:func:`tests.crash.stack.count`): every acknowledged submission is exactly one
case, the one the client was told; no case exists that nobody was told of; the registry
book's numbers run from 1 to its counter without a gap or a duplicate; every case's receipt is
in the outbox, sent, and arrived at the SMTP server once; both evidence requests of every case
were answered by the registers and their outcome saved once.

The one repeat the design allows (docs/notifications.md, RFC 1047): a message the SMTP server
took just before the database went away is sent again, with the same Message-ID. So the
restart scenario tolerates one repeated message per notify worker; the kill scenario none.

PostgreSQL only, on a database of its own (``salter_crash``, dropped afterwards). It restarts
the server and so disturbs every other session on it: it runs only when selected by its
marker (``pytest -m crash``; ``make crash-test``; its own step of ``make test``, after the
PostgreSQL step).
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_tool
from django.conf import settings

from tests.crash.stack import (
    ROOT,
    Postgres,
    Stack,
    count,
    problems,
    restart_command,
    running_stack,
    summary,
)

pytestmark = pytest.mark.crash

PROCESSES = 3  # client processes
THREADS = 2  # submitting threads in each
KILLS = 3  # gunicorn workers killed in the first scenario
STRIDE = 6  # cases stored under load before each blow, and after the last
RESULTS = ROOT / "var" / "crash" / "results.json"


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> Postgres:
    server = Postgres.from_environment()
    if server is None:
        pytest.skip("the crash test runs on PostgreSQL only (DATABASE_URL=postgres://…)")
    selected = str(request.config.getoption("markexpr") or "")
    if "crash" not in selected or "not crash" in selected:
        pytest.skip("it restarts PostgreSQL: run it alone with `-m crash` (make crash-test)")
    return server


@pytest.fixture(scope="module")
def say(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print past pytest's capture: the figures are the point of this test."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def write(line: str) -> None:
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line("\n" + line)

    return write


@pytest.fixture(scope="module")
def stack(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory, say: Callable[[str], None]
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("crash")
    pki = Path(settings.SALTER_PKI_DIR)  # made once for the session by conftest.py
    RESULTS.unlink(missing_ok=True)
    started, cpu = time.monotonic(), cpu_of_children()
    with running_stack(tmp, postgres, pki, PROCESSES * THREADS) as s:
        yield s
    run = {
        "wall_seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": round(cpu_of_children() - cpu, 1),  # its processes, not PostgreSQL's
        **{f"{k}_seconds": round(v, 1) for k, v in s.timings.items()},
    }
    say(f"crash test, the run: {json.dumps(run)}")
    save("run", run)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def save(name: str, figures: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved[name] = figures
    RESULTS.write_text(json.dumps(saved, indent=1, default=str))


def report(stack: Stack, figures: dict[str, Any], say: Callable[[str], None]) -> None:
    figures["postgres_restart_seconds"] = [round(s, 1) for s in stack.postgres_restarts]
    shown = {k: v for k, v in figures.items() if k != "refused"}
    say(f"crash test, {figures['scenario']}: {summary(figures)}")
    save(figures["scenario"], shown)


def test_gunicorn_workers_killed_under_load_lose_nothing(
    stack: Stack, say: Callable[[str], None]
) -> None:
    with stack.clients("kill", PROCESSES, THREADS) as load:
        for _n in range(KILLS):
            stack.wait_for_more_cases(load, STRIDE)
            stack.kill_web_worker()
        stack.wait_for_more_cases(load, STRIDE)
    figures = count(stack, load, drained=stack.drain(load.keys()))
    report(stack, figures, say)
    assert figures["worker_kills"] == KILLS
    assert problems(figures, repeats_allowed=0) == [], f"the processes' logs: {stack.tmp}"


def test_postgresql_restarted_under_load_loses_nothing(
    stack: Stack, say: Callable[[str], None]
) -> None:
    command = restart_command(stack.postgres)
    if command is None:  # a skip on a developer's machine, a failure in CI
        missing_tool(
            "no way to restart PostgreSQL here: run as root with pg_ctlcluster, or set "
            "SALTER_CRASH_PG_RESTART to the command"
        )
    stack.worker_kills = 0
    with stack.clients("restart", PROCESSES, THREADS) as load:
        stack.wait_for_more_cases(load, STRIDE)
        stack.restart_postgres(command)
        stack.wait_for_more_cases(load, 2 * STRIDE)
    figures = count(stack, load, drained=stack.drain(load.keys()))
    report(stack, figures, say)
    assert figures["postgres_restarts"] == 1
    # A message the SMTP server took just before the database went down is sent again, with
    # its Message-ID (RFC 1047; docs/notifications.md): at most one for the one notify worker.
    assert problems(figures, repeats_allowed=1) == [], f"the processes' logs: {stack.tmp}"
