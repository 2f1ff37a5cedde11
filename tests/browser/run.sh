#!/usr/bin/env bash
# Runs one browser test (a Node program driving Debian's headless Chromium with playwright-core)
# against a fresh rosterd and roster-sandbox: its own database on the test cluster and one
# organization. Usage: run.sh SCRIPT.mjs   (see README.md for the environment)
# Exit code: the script's; 1 when the setup itself fails.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROSTER_SOURCE_DIR=${ROSTER_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
ROSTER_ROOT=$ROSTER_SOURCE_DIR
# shellcheck source=../../scripts/lib.sh
. "$ROSTER_SOURCE_DIR/scripts/lib.sh"
# shellcheck source=../support/node-harness.sh
. "$ROSTER_SOURCE_DIR/tests/support/node-harness.sh"

EMPLOYEES=30 # the sandbox company the script counts after the first sync
CHROMIUM=${ROSTER_CHROMIUM:-/usr/bin/chromium}

if [[ $# -ne 1 ]]; then
    echo "usage: $0 SCRIPT.mjs" >&2
    exit 2
fi
SCRIPT=$(realpath -- "$1")
: "${ROSTER_TEST_PG:?set ROSTER_TEST_PG to the conninfo of a PostgreSQL cluster (dbname=postgres)}"
: "${ROSTERD_BIN:?set ROSTERD_BIN to the rosterd binary}"
: "${ROSTER_SANDBOX_BIN:?set ROSTER_SANDBOX_BIN to the roster-sandbox binary}"
for tool in node npm psql; do
    command -v "$tool" >/dev/null || { roster_log "browser: $tool is not installed"; exit 1; }
done
[[ -x "$CHROMIUM" ]] || { roster_log "browser: $CHROMIUM is missing (scripts/deps.sh installs Debian's chromium)"; exit 1; }

PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 roster_npm_ci "$HERE" browser
roster_harness_begin browser
roster_harness_db
export ROSTER_ALLOW_PRIVATE_UPSTREAMS=1 ROSTER_SYNC_WORKERS=1 ROSTER_SYNC_POLL_MS=100
API_KEY=$("$ROSTERD_BIN" create-org "Acme Engage" 2>>"$WORK/setup.log") ||
    roster_setup_failed "rosterd create-org"

"$ROSTER_SANDBOX_BIN" --listen 127.0.0.1:0 --employees "$EMPLOYEES" --seed 4 \
    >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
line=$(roster_wait_for_line "$WORK/sandbox.log" 'msg="listening"' 60 "$SANDBOX_PID") ||
    roster_setup_failed "roster-sandbox did not start"
SANDBOX_URL="http://$(printf '%s\n' "$line" | sed -E 's/.* addr=([^ ]+).*/\1/')"

roster_start_rosterd "$ROSTERD_BIN" "$WORK/rosterd.log" || roster_setup_failed "rosterd serve"
roster_log "browser: rosterd at $ROSTER_URL, sandbox at $SANDBOX_URL; running $(basename "$SCRIPT")"

rc=0
# where ctest runs it from (the build tree), resolved before the cd below
SHOTS=${ROSTER_SCREENSHOT_DIR:-$PWD/browser-screenshots}
(
    cd "$HERE"
    ROSTER_URL=$ROSTER_URL ROSTER_API_KEY=$API_KEY ROSTER_SANDBOX_URL=$SANDBOX_URL \
        ROSTER_SANDBOX_EMPLOYEES=$EMPLOYEES ROSTER_CHROMIUM=$CHROMIUM \
        ROSTER_SCREENSHOT_DIR=$SHOTS \
        exec node "$SCRIPT"
) || rc=$?
exit "$rc"
