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
# shellcheck source=../support/node-harness.sh
. "$ROSTER_SOURCE_DIR/tests/support/node-harness.sh"

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

roster_npm_ci "$HERE" conformance
roster_harness_begin conformance
roster_harness_db
# webhook receivers (test_webhooks.mjs) listen on loopback addresses
export ROSTER_ALLOW_PRIVATE_UPSTREAMS=1
API_KEY=$("$ROSTERD_BIN" create-org Conformance 2>>"$WORK/setup.log") ||
    roster_setup_failed "rosterd create-org"
OTHER_API_KEY=$("$ROSTERD_BIN" create-org "Conformance Other" 2>>"$WORK/setup.log") ||
    roster_setup_failed "rosterd create-org (second organization)"

roster_start_rosterd "$ROSTERD_BIN" "$WORK/rosterd.log" || roster_setup_failed "rosterd serve"
ACCOUNT_TOKEN=$(roster_link_example "$ROSTER_URL" "$API_KEY" conformance-main "$EMPLOYEES" \
    "$ROSTERD_BIN") || roster_setup_failed "linking the example account"
OTHER_ACCOUNT_TOKEN=$(roster_link_example "$ROSTER_URL" "$OTHER_API_KEY" conformance-other \
    "$OTHER_EMPLOYEES" "$ROSTERD_BIN") || roster_setup_failed "linking the second example account"
for token in "$API_KEY" "$OTHER_API_KEY" "$ACCOUNT_TOKEN" "$OTHER_ACCOUNT_TOKEN"; do
    [[ -n "$token" && "$token" != null ]] || roster_setup_failed "an API key or account token is empty"
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
