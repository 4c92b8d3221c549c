#!/usr/bin/env bash
# Install the Debian packages the integration tests need (root + apt only):
#   TOPCAT, STILTS and Xvfb for the SAMP tests; PostgreSQL + pgsphere + q3c for the
#   DaCHS TAP server (DaCHS itself is installed by tools/tap-server.sh, which must
#   start PostgreSQL first). Idempotent; prints what it does.
set -euo pipefail
PKGS="topcat stilts xvfb x11-utils postgresql postgresql-15-pgsphere postgresql-15-q3c"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "system-deps: all present"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "system-deps: missing Debian packages:$missing (need root and apt-get to install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing$missing"
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "system-deps: done"
