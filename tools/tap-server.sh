#!/usr/bin/env bash
# Local GAVO DaCHS TAP server with the astro_ocl sample, for the integration tests.
#
#   bash tools/tap-server.sh start    # install (once) + import + start; prints the TAP URL
#   bash tools/tap-server.sh stop     # stop DaCHS and the PostgreSQL cluster
#   bash tools/tap-server.sh stop dachs      # stop only DaCHS (or: stop postgres)
#   bash tools/tap-server.sh status   # exit 0 when the TAP endpoint answers
#   bash tools/tap-server.sh status postgres # exit 0 when the PostgreSQL cluster runs
#   bash tools/tap-server.sh import   # re-export and re-import the tables only
#
# tools/test.sh starts the server and stops at its end what it started (not what was
# already running), unless ASTRO_OCL_KEEP_SERVICES=1. ASTRO_OCL_DRY_RUN=1 makes
# `stop` print the commands it would run instead of running them.
#
# Needs root and apt on Debian 12 (bookworm). Installs gavodachs2-server (PostgreSQL,
# pgsphere and q3c come from tools/system-deps.sh, or are installed here when missing),
# then imports the resource descriptors in tools/dachs/ (schemas gaiadr2, cg2020,
# lamost) filled by tools/dachs/export_data.py from astro_ocl/data. TAP is served on
# 127.0.0.1 only, at http://127.0.0.1:$ASTRO_OCL_TAP_PORT/tap (default port 8080).
# Idempotent: re-running it skips what is done. Pitfalls handled:
#  * PostgreSQL must run before gavodachs2-server's postinst (`dachs init`); in
#    containers policy-rc.d forbids postinst to start it, so it is started by hand;
#  * pgsphere 1.1.1 with PostgreSQL >= 15.19 fails `CREATE EXTENSION pg_sphere`
#    ("commutator operator @> is already the commutator of operator <@"): the two
#    legacy smoc operators lose their COMMUTATOR/NEGATOR (pgsphere PR #92 did the same);
#  * DaCHS writes [web]serverURL into async job URLs: it must be the URL clients use.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PORT=${ASTRO_OCL_TAP_PORT:-8080}
PGVER=15
PY=${ASTRO_OCL_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3   # `status` before tools/test.sh made the venv
URL="http://127.0.0.1:$PORT/tap"
export DEBIAN_FRONTEND=noninteractive

say() { echo "tap-server: $*"; }

up() {
    "$PY" -c "import urllib.request as u; u.urlopen('$URL/capabilities', timeout=3)" \
        >/dev/null 2>&1
}

postgres_up() {
    command -v pg_lsclusters >/dev/null \
        && pg_lsclusters -h | awk -v v=$PGVER '$1==v && $2=="main"{print $4}' | grep -q online
}

done_() { [ "${ASTRO_OCL_DRY_RUN:-0}" = 1 ] || say "$*"; }

quietly() {   # stop a service, silently (with ASTRO_OCL_DRY_RUN=1: only say what would run)
    if [ "${ASTRO_OCL_DRY_RUN:-0}" = 1 ]; then say "dry run: $*"; else "$@" >/dev/null 2>&1; fi
}

start_postgres() {
    if ! dpkg-query -W -f='${Status}' postgresql-$PGVER-pgsphere 2>/dev/null | grep -q "ok installed"; then
        say "installing PostgreSQL + pgsphere + q3c"
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends \
            postgresql postgresql-$PGVER-pgsphere postgresql-$PGVER-q3c >/dev/null
    fi
    pg_lsclusters -h | grep -q "^$PGVER *main" || pg_createcluster $PGVER main >/dev/null
    pg_lsclusters -h | awk -v v=$PGVER '$1==v && $2=="main"{print $4}' | grep -q online \
        || pg_ctlcluster $PGVER main start
    local sql=/usr/share/postgresql/$PGVER/extension/pg_sphere--1.2.0.sql
    if [ -f "$sql" ]; then
        sed -i "/backwards-compatible operators for GAVO DaCHS/,/^-- debugging/{/^ *COMMUTATOR *= *.@>.,\|^ *NEGATOR *= *.!<@.,/d}" "$sql"
    fi
}

install_dachs() {
    if [ "$(dpkg-query -W -f='${Status}' gavodachs2-server 2>/dev/null)" != "install ok installed" ]; then
        if dpkg-query -W gavodachs2-server >/dev/null 2>&1; then
            dpkg --configure -a
        else
            say "installing gavodachs2-server (takes a few minutes)"
            [ -n "$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null)" ] || apt-get update -q >/dev/null
            apt-get install -y -q --no-install-recommends gavodachs2-server >/dev/null
        fi
    fi
    local rootdir
    rootdir=$(dachs config rootDir)
    if [ ! -f "$rootdir/etc/dsn" ]; then   # postinst ran without PostgreSQL: redo its work
        su postgres -c "createdb --encoding=UTF-8 --template template0 gavo" || true
        su postgres -c "createuser -s dachsroot" || true
        mkdir -p "$rootdir" && chown dachsroot "$rootdir"
        su dachsroot -s /bin/sh -c "dachs init"
    fi
    cat > /etc/gavo.rc <<RC
[web]
bindAddress: 127.0.0.1
serverPort: $PORT
serverURL: http://127.0.0.1:$PORT
sitename: astro_ocl loopback TAP
RC
}

import_tables() {
    local inputs tmp
    inputs=$(dachs config inputsDir)
    tmp=$(mktemp -d)
    "$PY" "$HERE/dachs/export_data.py" "$tmp"
    for rd in gaiadr2 cg2020 lamost; do
        mkdir -p "$inputs/$rd/data"
        cp "$HERE/dachs/$rd/q.rd" "$inputs/$rd/q.rd"
        cp "$tmp/$rd/"*.csv "$inputs/$rd/data/"
        chown -R dachsroot:gavo "$inputs/$rd"
        (cd "$inputs/$rd" && su dachsroot -s /bin/sh -c "dachs imp q")
    done
    rm -rf "$tmp"
}

serve() {
    dachs serve stop >/dev/null 2>&1 || true
    dachs serve start >/dev/null
    local i=0
    until up; do
        i=$((i + 1))
        if [ $i -ge 120 ]; then
            say "DaCHS did not come up"; tail -20 "$(dachs config logDir)/dcErrors" || true
            exit 1
        fi
        sleep 0.5
    done
}

case "${1:-start}" in
    start)
        [ "$(id -u)" = 0 ] || { say "needs root (apt, PostgreSQL, DaCHS)"; exit 1; }
        t0=$(date +%s)
        start_postgres
        install_dachs
        stamp=$(dachs config rootDir)/astro_ocl.stamp
        want=$(cat "$HERE"/dachs/*/q.rd "$HERE/dachs/export_data.py" | sha256sum | cut -c1-16)
        if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
            import_tables
            echo "$want" > "$stamp"
        fi
        serve
        say "DaCHS TAP ready at $URL after $(( $(date +%s) - t0 )) s"
        ;;
    import)
        start_postgres
        import_tables
        serve
        ;;
    stop)
        shift
        what=${*:-dachs postgres}
        for w in $what; do   # DaCHS first: it holds connections to PostgreSQL
            case $w in
                dachs) quietly dachs serve stop || true; done_ "DaCHS stopped" ;;
                postgres) quietly pg_ctlcluster $PGVER main stop || true
                          done_ "PostgreSQL $PGVER main stopped" ;;
                *) echo "usage: $0 stop [dachs] [postgres]" >&2; exit 2 ;;
            esac
        done
        ;;
    status)
        case ${2:-dachs} in
            dachs) if up; then say "up at $URL"; else say "not answering at $URL"; exit 1; fi ;;
            postgres) if postgres_up; then say "PostgreSQL $PGVER main online"
                      else say "PostgreSQL $PGVER main not running"; exit 1; fi ;;
            *) echo "usage: $0 status [dachs|postgres]" >&2; exit 2 ;;
        esac
        ;;
    *)
        echo "usage: $0 start|stop [dachs] [postgres]|status [dachs|postgres]|import" >&2
        exit 2 ;;
esac
