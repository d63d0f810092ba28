"""Load generator for ``make benchmark``: one process, asyncio, HTTP/1.1 keep-alive, stdlib only.

Runs against a Šalter server on the loopback interface (never anything else) and measures, for
each scenario, requests (or login round trips) per second, p50 and p99 latency, the number of
requests and the errors:

a. ``GET /healthz`` — a minimal Django endpoint (full middleware stack, no database): the ceiling;
b. ``GET /api/v1/me`` with ``Authorization: Bearer slt_…``;
c. ``GET /api/v1/me`` with a session cookie at level of assurance 2 (password + TOTP);
d. a login round trip: ``GET /login/`` (CSRF) → ``POST /login/`` → ``GET /login/verify/`` →
   ``POST /login/verify/`` with a TOTP code → ``GET /api/v1/me``; each round trip uses a user not
   used before, because django-otp refuses a TOTP code already used on a device.

Every loop is bounded both in time and in count.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

LOOPBACK = "127.0.0.1"
REQUEST_TIMEOUT = 15.0  # seconds for one request, including the argon2 hash of a login
MAX_PER_WORKER = 1_000_000  # a hard bound on the iterations of any worker loop
# gunicorn's workers do not share connections evenly: when many arrive at once, one worker
# may accept them all and the run measures one core instead of two. The connections are kept
# for the whole run and each reconnects after about RECONNECT_EVERY requests, at random
# moments, so that the load spreads over the workers as it would over many clients.
RECONNECT_EVERY = 100
KEEPALIVE_IDLE = 3.0  # seconds; gunicorn.conf.py closes idle keep-alive connections after 5
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class HttpError(Exception):
    pass


def totp_code(key_hex: str, now: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with SHA-1, as django-otp's TOTPDevice (t0 = 0, drift = 0)."""
    counter = struct.pack(">Q", int(now) // step)
    mac = hmac.new(bytes.fromhex(key_hex), counter, hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def cookies(self) -> dict[str, str]:
        jar: dict[str, str] = {}
        for key, value in self.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _sep, val = pair.partition("=")
                jar[name.strip()] = val.strip().strip('"')
        return jar


class Connection:
    """One keep-alive HTTP/1.1 connection to the loopback server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host_header = f"{LOOPBACK}:{port}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(LOOPBACK, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        if self.writer is not None and time.monotonic() - self.last_used > KEEPALIVE_IDLE:
            await self.close()  # the server has closed an idle keep-alive connection by now
        try:
            response = await asyncio.wait_for(
                self._request(method, path, headers or {}, body), REQUEST_TIMEOUT
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError):
            await self.close()
            raise
        self.last_used = time.monotonic()
        return response

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        parsed = []
        for line in header_lines:
            key, _sep, value = line.partition(":")
            parsed.append((key.strip().lower(), value.strip()))
        response = Response(status, parsed, b"")
        length = response.header("content-length")
        if length is not None:
            response.body = await self.reader.readexactly(int(length))
        elif (response.header("transfer-encoding") or "").lower() == "chunked":
            chunks = []
            for _i in range(100_000):
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            response.body = b"".join(chunks)
        elif status not in (204, 304):
            raise HttpError("response without a length")
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response


@dataclass
class Result:
    name: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    round_rates: list[float] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))
            return round(ordered[index] * 1000, 2)

        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "completed": len(ordered),
            "per_second": round(len(ordered) / self.seconds, 1) if self.seconds else 0.0,
            "http_requests": self.requests,
            "http_requests_per_second": round(self.requests / self.seconds, 1)
            if self.seconds
            else 0.0,
            "p50_ms": pct(50),
            "p99_ms": pct(99),
            "errors": self.errors,
            "error_samples": self.error_samples,
            "round_rates": [round(r, 1) for r in self.round_rates],
            "cpu_ms_per_request": {
                who: round(1000 * seconds / self.requests, 3) if self.requests else None
                for who, seconds in self.cpu.items()
                if who != "elapsed"
            },
            "cpu_cores": {
                who: round(seconds / self.cpu["elapsed"], 2)
                for who, seconds in self.cpu.items()
                if who != "elapsed" and self.cpu.get("elapsed")
            },
            "steps_p50_ms": {
                step: round(sorted(values)[len(values) // 2] * 1000, 2)
                for step, values in self.steps.items()
                if values
            },
        }


# (connection, result, index of the operation, index of the worker) -> success
Operation = Callable[[Connection, Result, int, int], Awaitable[bool]]


async def run_scenario(
    name: str,
    port: int,
    concurrency: int,
    duration: float,
    operation: Operation,
    *,
    max_operations: int = MAX_PER_WORKER,
    into: Result | None = None,
    pool: list[Connection] | None = None,
) -> Result:
    """Run ``operation`` in ``concurrency`` workers, each on its own connection, until
    ``duration`` seconds have passed or ``max_operations`` operations were started. With
    ``into``, add to an earlier round's result; with ``pool``, use (and keep) its connections."""
    result = into if into is not None else Result(name, concurrency)
    started = time.perf_counter()
    deadline = started + duration
    counter = iter(range(max_operations))
    rng = random.Random(len(result.latencies))

    async def worker(worker_id: int) -> None:
        conn = pool[worker_id] if pool is not None else Connection(port)
        reconnect_at = rng.randint(RECONNECT_EVERY // 2, RECONNECT_EVERY * 3 // 2)
        try:
            for i in range(MAX_PER_WORKER):
                if time.perf_counter() >= deadline:
                    break
                if i == reconnect_at:
                    await conn.close()  # the next request connects afresh
                    reconnect_at += rng.randint(RECONNECT_EVERY // 2, RECONNECT_EVERY * 3 // 2)
                index = next(counter, None)
                if index is None:
                    break
                t0 = time.perf_counter()
                try:
                    ok = await operation(conn, result, index, worker_id)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError) as e:
                    result.error(f"{type(e).__name__}: {e}")
                    continue
                if ok:
                    result.latencies.append(time.perf_counter() - t0)
        finally:
            if pool is None:
                await conn.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    result.seconds += time.perf_counter() - started
    return result


def get_ok(path: str, headers: dict[str, str], must_contain: bytes) -> Operation:
    return rotating_get(path, [headers], must_contain)


def rotating_get(path: str, headers: list[dict[str, str]], must_contain: bytes) -> Operation:
    """Like :func:`get_ok`, but each connection uses its own credentials (one per worker)."""

    async def operation(conn: Connection, result: Result, index: int, worker: int) -> bool:
        response = await conn.request("GET", path, headers[worker % len(headers)])
        result.requests += 1
        if response.status != 200 or must_contain not in response.body:
            result.error(f"GET {path}: {response.status} {response.body[:200]!r}")
            return False
        return True

    return operation


class Browser:
    """The cookies of one login, over a shared keep-alive connection."""

    def __init__(self, conn: Connection, result: Result | None) -> None:
        self.conn = conn
        self.result = result
        self.jar: dict[str, str] = {}

    async def send(self, step: str, method: str, path: str, form: dict[str, str] | None = None):
        headers = {"User-Agent": "salter-bench"}
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        response = await self.conn.request(method, path, headers, body)
        if self.result is not None:
            self.result.requests += 1
            self.result.steps.setdefault(step, []).append(time.perf_counter() - t0)
        self.jar.update(response.cookies())
        return response


async def login(
    conn: Connection, result: Result | None, user: dict[str, Any], password: str
) -> tuple[bool, str, dict[str, str]]:
    """Log ``user`` in with password and TOTP. Return (ok, error, cookies)."""
    browser = Browser(conn, result)
    nxt = "/api/v1/me"
    page = await browser.send("1 GET /login/", "GET", f"/login/?next={nxt}")
    match = CSRF_FIELD.search(page.body)
    if page.status != 200 or match is None:
        return False, f"GET /login/: {page.status}", {}
    form = {
        "csrfmiddlewaretoken": match.group(1).decode(),
        "username": user["email"],
        "password": password,
        "next": nxt,
    }
    sent = await browser.send("2 POST /login/ (argon2)", "POST", "/login/", form)
    location = sent.header("location") or ""
    if sent.status != 302 or not location.startswith("/login/verify/"):
        return False, f"POST /login/: {sent.status} {location} {sent.body[:200]!r}", {}
    page = await browser.send("3 GET /login/verify/", "GET", location)
    match = CSRF_FIELD.search(page.body)
    if page.status != 200 or match is None:
        return False, f"GET /login/verify/: {page.status}", {}
    form = {
        "csrfmiddlewaretoken": match.group(1).decode(),
        "code": totp_code(user["totp_key"], time.time()),
        "next": nxt,
    }
    sent = await browser.send("4 POST /login/verify/ (TOTP)", "POST", "/login/verify/", form)
    location = sent.header("location") or ""
    if sent.status != 302 or location != nxt:
        return False, f"POST /login/verify/: {sent.status} {location} {sent.body[:200]!r}", {}
    me = await browser.send("5 GET /api/v1/me", "GET", nxt)
    if me.status != 200 or json.loads(me.body).get("level_of_assurance") != 2:
        return False, f"GET /api/v1/me after login: {me.status} {me.body[:200]!r}", {}
    return True, "", browser.jar


def login_flow(users: list[dict[str, Any]], password: str) -> Operation:
    async def operation(conn: Connection, result: Result, index: int, worker: int) -> bool:
        ok, error, _jar = await login(conn, result, users[index], password)
        if not ok:
            result.error(error)
        return ok

    return operation


class CpuMeter:
    """CPU time, from /proc, of the server (gunicorn master and workers), of the PostgreSQL
    backends serving the benchmark database, of this process, and of the whole machine: what
    is left is other people's work, which skews the figures on a shared machine."""

    def __init__(self, server_pid: int | None, database: str) -> None:
        self.server_pid = server_pid
        self.database = f" {database} ".encode()
        self.hz = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ticks(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])

    def _server_pids(self) -> list[int]:
        if self.server_pid is None:
            return []
        pid = self.server_pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [pid, *map(int, f.read().split())]
        except OSError:
            return [pid]

    def _postgres_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read(200)
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and self.database in cmdline:
                pids.append(int(entry))
        return pids

    @staticmethod
    def _machine_busy() -> int:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values) - values[3] - values[4]  # all but idle and iowait

    def snapshot(self) -> dict[str, Any]:
        return {
            "server": {pid: self._ticks(pid) for pid in self._server_pids()},
            "postgres": {pid: self._ticks(pid) for pid in self._postgres_pids()},
            "client": os.times(),
            "machine": self._machine_busy(),
            "at": time.perf_counter(),
        }

    def add(self, before: dict[str, Any], after: dict[str, Any], into: dict[str, float]) -> None:
        def delta(kind: str) -> float:
            ticks = sum(t - before[kind].get(pid, 0) for pid, t in after[kind].items())
            return max(0, ticks) / self.hz

        client = (after["client"].user + after["client"].system) - (
            before["client"].user + before["client"].system
        )
        machine = (after["machine"] - before["machine"]) / self.hz
        parts = {"server": delta("server"), "postgres": delta("postgres"), "client": client}
        parts["others"] = max(0.0, machine - sum(parts.values()))
        parts["elapsed"] = after["at"] - before["at"]
        for key, value in parts.items():
            into[key] = into.get(key, 0.0) + value


def wait_for_quiet(meter: CpuMeter, limit: float, max_wait: float) -> float:
    """Wait (at most ``max_wait`` seconds) until other processes use less than ``limit`` cores;
    return the last measured load of other processes."""
    deadline = time.monotonic() + max_wait
    others = 0.0
    for _i in range(1000):
        before = meter.snapshot()
        time.sleep(2)
        spent: dict[str, float] = {}
        meter.add(before, meter.snapshot(), spent)
        others = spent["others"] / spent["elapsed"]
        if others < limit or time.monotonic() >= deadline:
            break
        print(f"  other processes use {others:.2f} cores; waiting for a quieter moment …")
    return others


def markdown(results: list[dict[str, Any]], ceiling: float) -> str:
    lines = [
        "| scenario | conc. | req/s | p50 ms | p99 ms | completed | HTTP req. | errors"
        " | vs ceiling | server CPU ms/req | PG CPU ms/req | others' load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{100 * r['per_second'] / ceiling:.0f} %" if ceiling else "–"
        if r["name"].startswith("d"):
            ratio = "–"
        cpu, cores = r["cpu_ms_per_request"], r["cpu_cores"]
        lines.append(
            f"| {r['name']} | {r['concurrency']} | {r['per_second']:.1f} | {r['p50_ms']} |"
            f" {r['p99_ms']} | {r['completed']} | {r['http_requests']} | {r['errors']} | {ratio} |"
            f" {cpu.get('server')} | {cpu.get('postgres')} | {cores.get('others')} cores |"
        )
    return "\n".join(lines)


async def log_in_all(port: int, users: list[dict[str, Any]], password: str) -> list[dict[str, str]]:
    """Log ``users`` in (4 at a time) and return their cookies as request headers."""
    semaphore = asyncio.Semaphore(4)

    async def one(user: dict[str, Any]) -> dict[str, str]:
        async with semaphore:
            conn = Connection(port)
            try:
                ok, error, jar = await login(conn, None, user, password)
            finally:
                await conn.close()
        if not ok:
            raise SystemExit(f"could not log in {user['email']}: {error}")
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}

    return list(await asyncio.gather(*(one(user) for user in users)))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    fixtures = json.loads(args.fixtures.read_text())
    password = fixtures["password"]
    users = fixtures["users"]
    tokens = [u["token"] for u in users if u["token"]]
    session_users = users[len(tokens) : len(tokens) + args.sessions]
    login_users = users[len(tokens) + args.sessions :]
    if not tokens or len(session_users) < args.sessions or not login_users:
        raise SystemExit("not enough seeded users")
    meter = CpuMeter(args.server_pid, args.database)

    # Sessions for (c): users logged in once, through the same flow, before any measurement;
    # the connections share them as a browser's connections share its cookie.
    sessions = await log_in_all(args.port, session_users, password)
    bearer = [{"Authorization": f"Bearer {t}"} for t in tokens]
    scenarios: list[tuple[str, Operation]] = [
        ("a. GET /healthz (ceiling)", get_ok("/healthz", {}, b'"ok"')),
        (
            "b. GET /api/v1/me, Bearer token",
            rotating_get("/api/v1/me", bearer, b'"authenticated_by": "token"'),
        ),
        (
            "c. GET /api/v1/me, session (LoA 2)",
            rotating_get("/api/v1/me", sessions, b'"authenticated_by": "session"'),
        ),
    ]
    pool = [Connection(args.port) for _i in range(args.concurrency)]
    for name, operation in scenarios:
        await run_scenario(name, args.port, args.concurrency, args.warmup, operation, pool=pool)

    others = wait_for_quiet(meter, args.quiet_below, args.quiet_wait)
    print(f"  other processes used {others:.2f} cores just before the measurement")
    # Service time without queueing: one request at a time.
    unloaded = []
    for name, operation in scenarios:
        result = await run_scenario(name, args.port, 1, args.unloaded, operation)
        unloaded.append(result.summary())
    # Interleaved rounds, so that a burst of other work on the machine hits every scenario.
    results = [Result(name, args.concurrency) for name, _op in scenarios]
    for round_no in range(args.rounds):
        print(f"  round {round_no + 1}/{args.rounds}: a, b, c …")
        for (name, operation), result in zip(scenarios, results, strict=True):
            done_before, seconds_before = len(result.latencies), result.seconds
            before = meter.snapshot()
            span = args.duration / args.rounds
            await run_scenario(
                name, args.port, args.concurrency, span, operation, into=result, pool=pool
            )
            meter.add(before, meter.snapshot(), result.cpu)
            result.round_rates.append(
                (len(result.latencies) - done_before) / (result.seconds - seconds_before)
            )

    for conn in pool:
        await conn.close()
    print("  d. login round trips …")
    login_result = Result("d. login round trip (password + TOTP + /me)", args.login_concurrency)
    before = meter.snapshot()
    await run_scenario(
        login_result.name,
        args.port,
        args.login_concurrency,
        args.login_duration,
        login_flow(login_users, password),
        max_operations=len(login_users),
        into=login_result,
    )
    meter.add(before, meter.snapshot(), login_result.cpu)
    summaries = [r.summary() for r in [*results, login_result]]
    ceiling = summaries[0]["per_second"]
    a_rates, b_rates, c_rates = (r.round_rates for r in results)
    return {
        "port": args.port,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "scenarios": summaries,
        "unloaded": unloaded,
        "ratio_bearer": round(summaries[1]["per_second"] / ceiling, 3) if ceiling else None,
        "ratio_session": round(summaries[2]["per_second"] / ceiling, 3) if ceiling else None,
        "round_ratios_bearer": [round(b / a, 3) for a, b in zip(a_rates, b_rates, strict=True)],
        "round_ratios_session": [round(c / a, 3) for a, c in zip(a_rates, c_rates, strict=True)],
        "others_before": round(others, 2),
        "login_users_available": len(login_users),
        "table": markdown(summaries, ceiling),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--server-pid", type=int, help="gunicorn master, for its CPU time")
    parser.add_argument("--database", default="salter_bench", help="for the backends' CPU time")
    parser.add_argument("--concurrency", type=int, default=64, help="connections for a, b, c")
    parser.add_argument("--sessions", type=int, default=16, help="logged-in users for c")
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per scenario")
    parser.add_argument("--unloaded", type=float, default=2.0, help="seconds, one at a time")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="a, b, c interleaved")
    parser.add_argument("--login-duration", type=float, default=15.0)
    parser.add_argument("--quiet-below", type=float, default=0.3, help="cores used by others")
    parser.add_argument("--quiet-wait", type=float, default=30.0, help="seconds, at most")
    args = parser.parse_args()
    if not (1 <= args.concurrency <= 256 and 1 <= args.login_concurrency <= 64):
        raise SystemExit("concurrency out of range")
    if not 1 <= args.sessions <= 64:
        raise SystemExit("sessions out of range")
    if not (0 <= args.warmup <= 30 and 0 < args.duration <= 120 and 0 < args.login_duration <= 60):
        raise SystemExit("durations out of range")
    if not (0 < args.unloaded <= 30 and 1 <= args.rounds <= 20 and 0 <= args.quiet_wait <= 300):
        raise SystemExit("unloaded, rounds or quiet-wait out of range")
    report = asyncio.run(main_async(args))
    args.out.write_text(json.dumps(report, indent=1))
    print(report["table"])


if __name__ == "__main__":
    main()
