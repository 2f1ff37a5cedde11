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

# node_modules from the lockfile, when missing or older than it, under a lock (ctest -j).
install_node_modules() {
    local lock
    lock="${TMPDIR:-/tmp}/roster-browser-$(printf '%s' "$HERE" | sha1sum | cut -c1-12).lock"
    (
        flock 9
        if [[ ! -d "$HERE/node_modules" || "$HERE/package-lock.json" -nt "$HERE/node_modules" ]]; then
            roster_log "browser: npm ci in $HERE"
            (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2
            touch "$HERE/node_modules"
        fi
    ) 9>"$lock"
}

DB="browser_$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-browser.XXXXXX")
ROSTERD_PID=""
SANDBOX_PID=""
DB_CREATED=0

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$?
    set +e
    [[ -n "$ROSTERD_PID" ]] && roster_stop_pid "$ROSTERD_PID"
    [[ -n "$SANDBOX_PID" ]] && roster_stop_pid "$SANDBOX_PID"
    if [[ $rc -ne 0 ]]; then
        roster_log "browser: rosterd log (last 40 lines):"
        tail -n 40 "$WORK/rosterd.log" >&2 2>/dev/null
    fi
    if [[ $DB_CREATED -eq 1 ]]; then
        psql "$ROSTER_TEST_PG" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 ||
            roster_log "browser: could not drop database $DB"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_node_modules

setup_failed() {
    roster_log "browser: setup failed: $*"
    cat "$WORK/setup.log" >&2 2>/dev/null || true
    exit 1
}

export PGOPTIONS="-c client_min_messages=warning"
roster_create_db "$ROSTER_TEST_PG" "$DB"
DB_CREATED=1
export ROSTER_DATABASE_URL="$ROSTER_TEST_PG dbname=$DB"
export ROSTER_LISTEN=127.0.0.1:0 ROSTER_ALLOW_PRIVATE_UPSTREAMS=1 ROSTER_SYNC_WORKERS=1
export ROSTER_SYNC_POLL_MS=100
export ROSTER_MASTER_KEY
ROSTER_MASTER_KEY=$(roster_new_master_key)
unset ROSTER_PUBLIC_URL

"$ROSTERD_BIN" migrate 2>>"$WORK/setup.log" || setup_failed "rosterd migrate"
API_KEY=$("$ROSTERD_BIN" create-org "Acme Engage" 2>>"$WORK/setup.log") ||
    setup_failed "rosterd create-org"

"$ROSTER_SANDBOX_BIN" --listen 127.0.0.1:0 --employees "$EMPLOYEES" --seed 4 \
    >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
line=$(roster_wait_for_line "$WORK/sandbox.log" 'msg="listening"' 60 "$SANDBOX_PID") ||
    setup_failed "roster-sandbox did not start"
SANDBOX_URL="http://$(printf '%s\n' "$line" | sed -E 's/.* addr=([^ ]+).*/\1/')"

roster_start_rosterd "$ROSTERD_BIN" "$WORK/rosterd.log" || setup_failed "rosterd serve"
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
