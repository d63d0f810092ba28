"""One client process of the crash test: threads that submit newborn-aid applications over
HTTP (``POST /api/v1/cases``) and retry each one with the same idempotency key until it is
acknowledged — the way a mobile app or another authority's system should.

    python -m tests.crash.client --port 8000 --plan plan.json --name a0 --threads 2 \
        --stop-file stop --out a0.json

Each thread starts a new submission until the stop file exists (or ``--count`` are made),
and finishes the one in hand. Standard library only; loopback only; every loop is bounded
(``--count``, and ``--give-up`` seconds per submission). An acknowledgement is a 201 (new
case) or a 200 (the same case, on a retry) with the case in the body. A connection refused
or reset, a timeout, a 5xx or a 429 is retried after a short pause; any other answer is
recorded and ends that submission (the test then fails, naming it). Every n-th submission's
first attempt hangs up as soon as the request is sent (``--abandon-every``), so that its retry
races with it on the server. The out file holds, per
submission: the key, the token's index, every attempt's outcome and the acknowledged case.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any

FORM = {
    # Ивана and Лука Марковић of the demo registers (salter.registers.seed): both registers
    # hold records for them, so the evidence requests are answered.
    "parent_name": "Ивана Марковић",
    "parent_jmbg": "1505988715008",
    "parent_address": "Српских владара 14, Сурдулица",
    "parent_email": "ivana@example.rs",
    "bank_account": "160-0000000012345-67",
    "child_name": "Лука Марковић",
    "child_jmbg": "1409026740133",
    "child_birth_date": "2026-09-14",
}
RETRYABLE = {429, 500, 502, 503, 504}


class Submitter(threading.Thread):
    def __init__(self, args: argparse.Namespace, plan: dict[str, Any], index: int) -> None:
        super().__init__(daemon=True)
        self.args, self.plan, self.index = args, plan, index
        self.token_index = (args.first_token + index) % len(plan["tokens"])
        self.results: list[dict[str, Any]] = []
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        for n in range(self.args.count):
            if self.args.stop_file.exists():
                return
            key = f"crash-{self.args.name}-{self.index}-{n}"
            self.results.append(self.submit(key, abandon=n % self.args.abandon_every == 0))

    def submit(self, key: str, *, abandon: bool = False) -> dict[str, Any]:
        body = json.dumps(
            {"service": self.plan["service"], "data": FORM, "idempotency_key": key},
            ensure_ascii=False,
        ).encode()
        headers = {
            "Authorization": f"Bearer {self.plan['tokens'][self.token_index]}",
            "Content-Type": "application/json",
        }
        record: dict[str, Any] = {"key": key, "token": self.token_index, "attempts": []}
        give_up = time.monotonic() + self.args.give_up
        pause = 0.05
        if abandon:
            record["attempts"].append(self.abandon(body, headers))
        while time.monotonic() < give_up:
            outcome, status, answer = self.attempt(body, headers)
            record["attempts"].append(outcome)
            if status in (200, 201) and isinstance(answer, dict) and "id" in answer:
                record["ack"] = {
                    "status": status,
                    "id": answer["id"],
                    "registry_number": answer["registry_number"],
                }
                return record
            if status is not None and status not in RETRYABLE:
                record["refused"] = answer
                return record
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        return record

    def attempt(self, body: bytes, headers: dict[str, str]) -> tuple[str, int | None, Any]:
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.args.port, timeout=self.args.timeout
                )
            self.conn.request("POST", "/api/v1/cases", body, headers)
            response = self.conn.getresponse()
            raw = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            # Refused (no worker listening), reset or cut short (the worker was killed),
            # timed out: the request may or may not have been carried out.
            self.close()
            return type(exc).__name__, None, None
        try:
            answer: Any = json.loads(raw)
        except ValueError:
            answer = raw[:300].decode(errors="replace")
        return str(response.status), response.status, answer

    def abandon(self, body: bytes, headers: dict[str, str]) -> str:
        """Send the request and hang up without reading the answer, as a phone that loses its
        signal does: the server carries it out, and the retry right after it races with it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=self.args.timeout)
        try:
            conn.request("POST", "/api/v1/cases", body, headers)
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__
        finally:
            conn.close()
        return "abandoned"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--name", required=True, help="unique per process and run (in keys)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--first-token", type=int, default=0)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--count", type=int, default=500, help="at most, per thread")
    parser.add_argument(
        "--abandon-every",
        type=int,
        default=4,
        help="every n-th submission's first attempt hangs up before the answer",
    )
    parser.add_argument("--give-up", type=float, default=60.0, help="seconds per submission")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    threads = [Submitter(args, plan, i) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    args.out.write_text(json.dumps([r for t in threads for r in t.results]))


if __name__ == "__main__":
    main()
