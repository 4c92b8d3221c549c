#!/usr/bin/env bash
# Start a private SAMP hub (JSAMP), Xvfb and TOPCAT for trying `astro-ocl samp send`
# on a headless machine; everything is stopped when this script exits (Ctrl-C).
#   bash tools/samp-topcat.sh            then, in another shell, the printed
#   export SAMP_HUB=...; astro-ocl samp send --table clusters members
# Needs the Debian packages topcat and xvfb (bash tools/system-deps.sh).
# Each helper runs under setsid and is stopped by process group (TOPCAT's shell
# wrapper and its java child together).
set -u
for tool in topcat Xvfb; do
    command -v "$tool" >/dev/null || { echo "samp-topcat: $tool not found (bash tools/system-deps.sh)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/astro_ocl_samp.XXXXXX")
export SAMP_HUB="std-lockurl:file://$WORK/samp.lock"
PGIDS=""
cleanup() { for p in $PGIDS; do kill -- "-$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 0' INT TERM

setsid topcat -Djsamp.localhost=127.0.0.1 -jsamp hub -mode no-gui -profiles std \
    > "$WORK/hub.log" 2>&1 &
PGIDS="$PGIDS $!"
i=0; until [ -s "$WORK/samp.lock" ]; do
    i=$((i+1)); [ $i -lt 300 ] || { echo "samp-topcat: hub did not start" >&2; cat "$WORK/hub.log" >&2; exit 1; }
    sleep 0.2
done

if [ -z "${DISPLAY:-}" ]; then
    setsid Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3> "$WORK/display" \
        > "$WORK/xvfb.log" 2>&1 &
    PGIDS="$PGIDS $!"
    i=0; until [ -s "$WORK/display" ]; do
        i=$((i+1)); [ $i -lt 150 ] || { echo "samp-topcat: Xvfb did not start" >&2; exit 1; }
        sleep 0.2
    done
    export DISPLAY=":$(cat "$WORK/display")"
fi

setsid topcat -Djsamp.localhost=127.0.0.1 -samp -nohub > "$WORK/topcat.log" 2>&1 &
PGIDS="$PGIDS $!"
echo "SAMP hub and TOPCAT running (DISPLAY=$DISPLAY); in another shell:"
echo "  export SAMP_HUB=$SAMP_HUB"
echo "  astro-ocl samp send --table clusters members"
echo "Ctrl-C stops them."
wait
