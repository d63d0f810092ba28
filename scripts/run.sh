#!/usr/bin/env bash
# make run: the web server plus the background processes a real deployment runs as services —
# the notification worker (sends the outbox), the exchange worker (asks registers for the
# evidence cases need) and the clock (timers, escalation, year end,
# deemed deliveries, digests; --run does the jobs itself, no task worker needed). Ctrl+C stops
# all of them.
set -euo pipefail
BIN=.venv/bin
# Exported: the settings of every process below take the site's addresses from it
# (SALTER_PUBLIC_URL and what follows it, unless set; docs/configuration.md).
export PORT="${PORT:-8000}"
children=()
cleanup() { for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
"$BIN/salter" notify_worker & children+=($!)
"$BIN/salter" exchange_worker & children+=($!)
"$BIN/salter" clock --run >/dev/null & children+=($!)
echo "Šalter on http://127.0.0.1:${PORT}/  (Ctrl+C stops it; e-mail is written to var/mail/)"
"$BIN/gunicorn" salter.wsgi -c src/salter/gunicorn.conf.py --bind "127.0.0.1:${PORT}"
