#!/usr/bin/env bash
# Runs one conformance script (a Node program using a third-party client) against a fresh
# rosterd: its own database on the test cluster, two organizations, each with a linked account
# holding an example company. Usage: run.sh SCRIPT.mjs   (see README.md for the environment)
# Exit code: the script's; 1 when the setup itself fails.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROSTER_SOURCE_DIR=${ROSTER_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
ROSTER_ROOT=$ROSTER_SOURCE_DIR
# shellcheck source=../../scripts/lib.sh
. "$ROSTER_SOURCE_DIR/scripts/lib.sh"

EMPLOYEES=300       # the example company the scripts count against
OTHER_EMPLOYEES=20  # the second organization's, for the isolation checks

if [[ $# -ne 1 ]]; then
    echo "usage: $0 SCRIPT.mjs" >&2
    exit 2
fi
SCRIPT=$(realpath -- "$1")
: "${ROSTER_TEST_PG:?set ROSTER_TEST_PG to the conninfo of a PostgreSQL cluster (dbname=postgres)}"
: "${ROSTERD_BIN:?set ROSTERD_BIN to the rosterd binary}"
for tool in node npm psql curl jq; do
    command -v "$tool" >/dev/null || { roster_log "conformance: $tool is not installed"; exit 1; }
done

# node_modules from the lockfile, when missing or older than it. The lock keeps two runs of
# this script (ctest -j) from installing into the same directory at once.
install_node_modules() {
    local lock
    lock="${TMPDIR:-/tmp}/roster-conformance-$(printf '%s' "$HERE" | sha1sum | cut -c1-12).lock"
    (
        flock 9
        if [[ ! -d "$HERE/node_modules" || "$HERE/package-lock.json" -nt "$HERE/node_modules" ]]; then
            roster_log "conformance: npm ci in $HERE"
            (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >&2
            touch "$HERE/node_modules"
        fi
    ) 9>"$lock"
}

DB="conf_$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-conf.XXXXXX")
ROSTERD_PID=""
DB_CREATED=0

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$ROSTERD_PID" ]]; then
        roster_stop_pid "$ROSTERD_PID"
        if [[ $rc -ne 0 ]]; then
            roster_log "conformance: rosterd log (last 40 lines):"
            tail -n 40 "$WORK/rosterd.log" >&2
        fi
    fi
    if [[ $DB_CREATED -eq 1 ]]; then
        psql "$ROSTER_TEST_PG" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 ||
            roster_log "conformance: could not drop database $DB"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_node_modules

export PGOPTIONS="-c client_min_messages=warning"
roster_create_db "$ROSTER_TEST_PG" "$DB"
DB_CREATED=1
# In a keyword/value conninfo the last dbname wins.
export ROSTER_DATABASE_URL="$ROSTER_TEST_PG dbname=$DB"
export ROSTER_LISTEN=127.0.0.1:0
# webhook receivers (test_webhooks.mjs) and roster-sandbox listen on loopback addresses
export ROSTER_ALLOW_PRIVATE_UPSTREAMS=1
export ROSTER_MASTER_KEY
ROSTER_MASTER_KEY=$(roster_new_master_key)
unset ROSTER_PUBLIC_URL

setup_failed() {
    roster_log "conformance: setup failed: $*"
    cat "$WORK/setup.log" >&2 2>/dev/null || true
    exit 1
}
"$ROSTERD_BIN" migrate 2>>"$WORK/setup.log" || setup_failed "rosterd migrate"
API_KEY=$("$ROSTERD_BIN" create-org Conformance 2>>"$WORK/setup.log") ||
    setup_failed "rosterd create-org"
OTHER_API_KEY=$("$ROSTERD_BIN" create-org "Conformance Other" 2>>"$WORK/setup.log") ||
    setup_failed "rosterd create-org (second organization)"

roster_start_rosterd "$ROSTERD_BIN" "$WORK/rosterd.log" || setup_failed "rosterd serve"
ACCOUNT_TOKEN=$(roster_link_example "$ROSTER_URL" "$API_KEY" conformance-main "$EMPLOYEES" \
    "$ROSTERD_BIN") || setup_failed "linking the example account"
OTHER_ACCOUNT_TOKEN=$(roster_link_example "$ROSTER_URL" "$OTHER_API_KEY" conformance-other \
    "$OTHER_EMPLOYEES" "$ROSTERD_BIN") || setup_failed "linking the second example account"
for token in "$API_KEY" "$OTHER_API_KEY" "$ACCOUNT_TOKEN" "$OTHER_ACCOUNT_TOKEN"; do
    [[ -n "$token" && "$token" != null ]] || setup_failed "an API key or account token is empty"
done
roster_log "conformance: rosterd at $ROSTER_URL (database $DB); running $(basename "$SCRIPT")"

rc=0
(
    cd "$HERE"
    ROSTER_URL=$ROSTER_URL ROSTER_API_KEY=$API_KEY ROSTER_ACCOUNT_TOKEN=$ACCOUNT_TOKEN \
        ROSTER_OTHER_API_KEY=$OTHER_API_KEY ROSTER_OTHER_ACCOUNT_TOKEN=$OTHER_ACCOUNT_TOKEN \
        ROSTER_EXAMPLE_EMPLOYEES=$EMPLOYEES ROSTER_OTHER_EXAMPLE_EMPLOYEES=$OTHER_EMPLOYEES \
        exec node "$SCRIPT"
) || rc=$?
exit "$rc"
