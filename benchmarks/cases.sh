#!/usr/bin/env bash
# make benchmark-cases: the case reads at 10,000 and at 1,000,000 cases (10 million timeline
# events), and submissions per second over HTTP beside a one-row-insert ceiling (issue 3).
#
# 1. recreate the PostgreSQL database salter_bench_cases, migrate, create the ceiling's table;
# 2. benchmarks/cases_data.py setup: authorities, officials, pilots, applicants, API tokens;
# 3. grow to BENCH_CASES_SMALL cases, time the reads in process (benchmarks/cases_reads.py);
# 4. grow to BENCH_CASES_BIG cases, time the same reads again;
# 5. start gunicorn (src/salter/gunicorn.conf.py, settings benchmarks/bench_settings.py) and run
#    benchmarks/cases_load.py: the reads over HTTP one at a time, then submissions vs. the ceiling;
# 6. print the results as markdown (benchmarks/cases_summary.py), also in var/bench-cases/.
#
# Everything stays on 127.0.0.1. Knobs (environment): BENCH_CASES_DB, BENCH_CASES_SMALL [10000],
# BENCH_CASES_BIG [1000000], BENCH_APPLICANTS [100000], BENCH_AUTHORITIES [20], BENCH_CALLS [1000],
# BENCH_PORT [18766], BENCH_CONCURRENCY [16], BENCH_DURATION [18], BENCH_ROUNDS [3],
# BENCH_QUIET_WAIT [30]; SALTER_WORKERS, SALTER_THREADS (gunicorn.conf.py).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/.venv/bin"
PORT=${BENCH_PORT:-18766}
DB=${BENCH_CASES_DB:-salter_bench_cases}
SMALL=${BENCH_CASES_SMALL:-10000}
BIG=${BENCH_CASES_BIG:-1000000}
OUT="$ROOT/var/bench-cases"
mkdir -p "$OUT"
rm -f "$OUT/reads.json" "$OUT/grow.json" "$OUT/plans.md"

export DJANGO_SETTINGS_MODULE=salter.settings.dev
export SALTER_DEBUG=
export SALTER_VAR_DIR="$OUT"
export SALTER_LOG_LEVEL=WARNING
export SALTER_RATE_LIMITS=0  # all the load comes from 127.0.0.1: measure without the limits
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
unset REDIS_URL
export PYTHONPATH="$ROOT/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"

case "$DB" in
    salter_bench_cases*) ;;
    *) echo "BENCH_CASES_DB must start with salter_bench_cases (it is dropped)" >&2; exit 2 ;;
esac
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT on 127.0.0.1 is busy; set BENCH_PORT" >&2
    exit 2
fi
psql() { command psql -h 127.0.0.1 -U postgres -d "$DB" -v ON_ERROR_STOP=1 -qAt "$@"; }

started=$(date +%s)
echo "== database $DB (recreated), migrations" >&2
"$BIN/python" - "$DB" <<'PY'
import sys

import psycopg

db = sys.argv[1]
with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{db}"')
PY
"$BIN/salter" migrate --no-input -v0
"$BIN/salter" collectstatic --no-input -v0
psql -c "CREATE TABLE bench_ping (id bigserial PRIMARY KEY, user_id bigint NOT NULL,
    key text NOT NULL, at timestamptz NOT NULL DEFAULT now())"

echo "== setup: authorities, officials, pilots, applicants, tokens" >&2
"$BIN/python" benchmarks/cases_data.py setup --authorities "${BENCH_AUTHORITIES:-20}" \
    --applicants "${BENCH_APPLICANTS:-100000}" --tokens 64

for size in "$SMALL" "$BIG"; do
    echo "== growing to $size cases" >&2
    "$BIN/python" benchmarks/cases_data.py grow --to "$size" --out "$OUT/grow.json"
    echo "== reads at $size cases, in process" >&2
    "$BIN/python" benchmarks/cases_reads.py --label "$size" --out "$OUT/reads.json" \
        --calls "${BENCH_CALLS:-1000}" --plans "$OUT/plans.md"
done
psql -c "SELECT plan FROM bench_cases_plan" >"$OUT/plan.json"

echo "== gunicorn on 127.0.0.1:$PORT (benchmarks/bench_settings.py)" >&2
DJANGO_SETTINGS_MODULE=benchmarks.bench_settings "$BIN/gunicorn" salter.wsgi \
    -c src/salter/gunicorn.conf.py --bind "127.0.0.1:$PORT" --max-requests 0 \
    --access-logfile "$OUT/access.log" --error-logfile "$OUT/gunicorn.log" \
    >"$OUT/gunicorn.out" 2>&1 &
SERVER=$!
stop_server() {
    if kill -0 "$SERVER" 2>/dev/null; then
        kill -TERM "$SERVER"
        for _ in $(seq 1 100); do
            kill -0 "$SERVER" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$SERVER" 2>/dev/null; then kill -KILL "$SERVER"; fi
    fi
    wait "$SERVER" 2>/dev/null || true
}
trap stop_server EXIT
ready=0
for _ in $(seq 1 100); do
    if "$BIN/python" -c "
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', $PORT, timeout=2)
c.request('GET', '/readyz')
sys.exit(c.getresponse().status != 200)
" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.2
done
if [[ $ready != 1 ]]; then
    echo "gunicorn did not become ready; see $OUT/gunicorn.log" >&2
    exit 1
fi

echo "== load (second process): reads over HTTP, then submissions beside the ceiling" >&2
cases_before=$(psql -c "SELECT count(*) FROM cases_case")
"$BIN/python" benchmarks/cases_load.py --port "$PORT" --plan "$OUT/plan.json" \
    --reads "$OUT/reads.json" --out "$OUT/load.json" --server-pid "$SERVER" --database "$DB" \
    --concurrency "${BENCH_CONCURRENCY:-16}" --duration "${BENCH_DURATION:-18}" \
    --rounds "${BENCH_ROUNDS:-3}" --quiet-wait "${BENCH_QUIET_WAIT:-30}" >&2
stop_server
trap - EXIT
# Every submission registered exactly one case, with a number from its book, without gaps.
psql -c "SELECT count(*) - $cases_before, count(DISTINCT (book_id, year, number)) - $cases_before
    FROM cases_case" >"$OUT/check.txt"

"$BIN/python" benchmarks/cases_summary.py --dir "$OUT" --seconds $(($(date +%s) - started)) \
    | tee "$OUT/results.md"
