#!/usr/bin/env bash
# The Debian packages Šalter needs, installed by the two commands themselves so that a fresh
# machine needs nothing by hand.
#
#   bash scripts/debian-packages.sh run    what `make run` needs (WeasyPrint's Pango, a font)
#   bash scripts/debian-packages.sh test   what `make test` needs on top: Chromium for the browser
#                                          tests, poppler and zbar to read PDFs and QR codes back,
#                                          gettext to check the translations, postgresql-client
#                                          (pg_dump, pg_restore) for the backup tests
#
# Missing packages are installed when we are root with apt-get; otherwise the script stops at once,
# naming the packages and the command, before anything else runs.
set -euo pipefail

run_packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
test_packages=("${run_packages[@]}" chromium gettext poppler-utils zbar-tools postgresql-client)

case "${1:-test}" in
  run) wanted=("${run_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v dpkg >/dev/null; then
  echo "Not a Debian system: install the equivalents of ${wanted[*]} yourself." >&2
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

cat >&2 <<MSG
Šalter needs Debian packages that are not installed: ${missing[*]}
Install them, then run the command again:

    sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}
MSG
exit 1
