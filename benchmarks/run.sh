#!/usr/bin/env bash
# make benchmark: login with TOTP and GET /api/v1/me under load, beside GET /healthz as the ceiling.
#
# 1. recreate the PostgreSQL database salter_bench, migrate, collect static files;
# 2. seed users with TOTP devices and API tokens, count the queries of GET /api/v1/me
#    (benchmarks/prepare.py, Django test client, same database);
# 3. start gunicorn with the project's config (src/salter/gunicorn.conf.py) on 127.0.0.1;
# 4. run the load generator (benchmarks/load.py) in a second process; stop the server;
# 5. print the results as markdown (benchmarks/summary.py), also in var/bench/results.md.
#
# Everything stays on 127.0.0.1. Knobs (environment): BENCH_PORT, BENCH_USERS, BENCH_DURATION
# (seconds per scenario, split over BENCH_ROUNDS interleaved rounds), BENCH_LOGIN_DURATION,
# BENCH_CONCURRENCY, BENCH_LOGIN_CONCURRENCY, BENCH_QUIET_WAIT (seconds to wait, at most, for
# other processes to calm down), BENCH_DB, BENCH_REDIS=1 (sessions and cache in Redis at
# 127.0.0.1:6379 instead of PostgreSQL only), SALTER_WORKERS, SALTER_THREADS (gunicorn.conf.py).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/.venv/bin"
PORT=${BENCH_PORT:-18765}
DB=${BENCH_DB:-salter_bench}
USERS=${BENCH_USERS:-400}
TOKENS=${BENCH_TOKENS:-16}
OUT="$ROOT/var/bench"
mkdir -p "$OUT"

export DJANGO_SETTINGS_MODULE=salter.settings.dev  # argon2 passwords; DEBUG off without SALTER_DEBUG
export SALTER_DEBUG=
export SALTER_VAR_DIR="$OUT"
export SALTER_LOG_LEVEL=WARNING
export SALTER_RATE_LIMITS=0  # all the load comes from 127.0.0.1: measure without the limits
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
if [[ "${BENCH_REDIS:-0}" == "1" ]]; then
    export REDIS_URL="redis://127.0.0.1:6379/15"
else
    unset REDIS_URL
fi
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"

case "$DB" in
    salter_bench*) ;;
    *) echo "BENCH_DB must start with salter_bench (it is dropped)" >&2; exit 2 ;;
esac
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT on 127.0.0.1 is busy; set BENCH_PORT" >&2
    exit 2
fi

started=$(date +%s)
echo "== database $DB (recreated), migrations, static files" >&2
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
if [[ -n "${REDIS_URL:-}" ]]; then
    "$BIN/python" -c "import redis; redis.Redis.from_url('$REDIS_URL').flushdb()"
fi

echo "== seeding $USERS users and counting queries" >&2
"$BIN/python" benchmarks/prepare.py --users "$USERS" --tokens "$TOKENS" --out "$OUT/fixtures.json"

echo "== gunicorn on 127.0.0.1:$PORT" >&2
# max_requests 0: the project's recycling after ~5000 requests would restart each worker every
# few seconds at these rates and measure Django start-up instead of requests.
"$BIN/gunicorn" salter.wsgi -c src/salter/gunicorn.conf.py --bind "127.0.0.1:$PORT" \
    --max-requests 0 --access-logfile "$OUT/access.log" --error-logfile "$OUT/gunicorn.log" \
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
# Warm every worker and thread (lazy imports, URLconf, database connections): 16 clients at once.
"$BIN/python" - "$PORT" <<'PY'
import http.client
import sys
from concurrent.futures import ThreadPoolExecutor

port = int(sys.argv[1])


def client(_n: int) -> None:
    for _ in range(20):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/healthz", "/login/", "/readyz"):
            conn.request("GET", path)
            conn.getresponse().read()
        conn.close()


with ThreadPoolExecutor(16) as pool:
    list(pool.map(client, range(16)))
PY

echo "== load (second process)" >&2
"$BIN/python" benchmarks/load.py --port "$PORT" --fixtures "$OUT/fixtures.json" \
    --out "$OUT/results.json" --server-pid "$SERVER" --database "$DB" \
    --concurrency "${BENCH_CONCURRENCY:-64}" --login-concurrency "${BENCH_LOGIN_CONCURRENCY:-8}" \
    --duration "${BENCH_DURATION:-12}" --rounds "${BENCH_ROUNDS:-3}" \
    --login-duration "${BENCH_LOGIN_DURATION:-15}" --quiet-wait "${BENCH_QUIET_WAIT:-30}" >&2
stop_server
trap - EXIT

"$BIN/python" benchmarks/summary.py --fixtures "$OUT/fixtures.json" \
    --results "$OUT/results.json" --seconds $(($(date +%s) - started)) | tee "$OUT/results.md"
