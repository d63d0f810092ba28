#!/usr/bin/env bash
# Every check of `make test`, in order. Keeps going after a failure so one run shows every
# problem, then prints which database backends and optional parts ran, and exits non-zero if
# anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
REPORTS=$(mktemp -d)
trap 'rm -rf "$REPORTS"' EXIT
results=()
failed=0

step() {
  local name=$1; shift
  echo
  echo "━━━ $name"
  local start=$SECONDS
  if "$@"; then
    results+=("  ✔ $name ($((SECONDS - start)) s)")
  else
    results+=("  ✘ $name ($((SECONDS - start)) s) — FAILED")
    failed=1
  fi
}

reachable() {  # host port
  "$BIN/python" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

deploy_check() {
  local key
  key=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))')
  DJANGO_SETTINGS_MODULE=salter.settings.production SALTER_SECRET_KEY="$key" \
    SALTER_PII_KEYS="deploy:$(python3 -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
    DATABASE_URL="sqlite:///$REPORTS/deploy.sqlite3" \
    "$BIN/salter" check --deploy --fail-level WARNING
}

messages_check() {
  local po=src/salter/locale/sr/LC_MESSAGES/django.po
  msgfmt --check -o "$REPORTS/django.mo" "$po" && cmp -s "$REPORTS/django.mo" "${po%.po}.mo" \
    || { echo "Translations: django.mo is not compiled from django.po — run 'make messages'."; return 1; }
}

run_pytest() {  # label, then pytest arguments
  local label=$1; shift
  "$BIN/pytest" -p no:cacheprovider --junitxml="$REPORTS/$label.xml" "$@"
  local code=$?
  [ $code -eq 5 ] && echo "pytest collected no test for $label"
  return $code
}

step "ruff (lint)" "$BIN/ruff" check src tests benchmarks
step "ruff (format)" "$BIN/ruff" format --check src tests benchmarks
step "mypy (django-stubs)" "$BIN/mypy"
step "migrations are complete" env DJANGO_SETTINGS_MODULE=salter.settings.test \
  "$BIN/salter" makemigrations --check --dry-run
step "check --deploy (production settings)" deploy_check
step "translations compiled" messages_check

backends=("SQLite")
step "pytest on SQLite" run_pytest sqlite -m "not browser and not crash" -n 2

if reachable 127.0.0.1 5432; then
  redis_note="no Redis"
  extra=()
  if reachable 127.0.0.1 6379; then
    extra=(REDIS_URL=redis://127.0.0.1:6379/15)
    redis_note="Redis cache + sessions"
  fi
  backends+=("PostgreSQL ($redis_note)")
  step "pytest on PostgreSQL" env DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
    "${extra[@]}" bash -c "$(declare -f run_pytest); BIN=$BIN REPORTS=$REPORTS run_pytest postgres -m 'not browser and not crash' -n 2"
  # After every other PostgreSQL test: it restarts the server (tests/crash, `make crash-test`).
  step "crash test on PostgreSQL (workers killed, server restarted)" \
    env DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
    bash -c "$(declare -f run_pytest); BIN=$BIN REPORTS=$REPORTS run_pytest crash -m crash tests/crash"
else
  backends+=("PostgreSQL SKIPPED: nothing answers on 127.0.0.1:5432")
fi

# scripts/debian-packages.sh (run by `make test` first) installs Chromium; a browser suite that
# cannot start is a failure, never a skip.
browser="ran (Playwright + /usr/bin/chromium, axe-core WCAG 2.2 AA)"
step "browser tests" run_pytest browser -m browser

echo
echo "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
echo "Šalter checks"
printf '%s\n' "${results[@]}"
echo "Database backends: ${backends[*]}"
echo "Browser tests:     $browser"
echo "Translations:      checked (msgfmt)"
"$BIN/python" - "$REPORTS" <<'PY'
import glob, sys
import xml.etree.ElementTree as ET
totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in glob.glob(f"{sys.argv[1]}/*.xml"):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"{passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
exit $failed
