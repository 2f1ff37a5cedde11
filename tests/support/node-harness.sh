# shellcheck shell=bash
# What the runners of the Node tests (tests/conformance/run.sh, tests/browser/run.sh) share:
# node_modules from the lockfile, a fresh database with rosterd's settings on it, and a trap that
# stops what was started and drops the database whatever happens. Source it after
# scripts/lib.sh (bash, set -euo pipefail).

# roster_npm_ci DIR LABEL: installs DIR's node_modules with `npm ci` when missing or older than
# its lockfile. The lock keeps two runs of one folder (ctest -j) from installing at once. npm's
# extra environment is the caller's (VAR=value roster_npm_ci …).
roster_npm_ci() {
    local dir=$1 label=$2 lock
    lock="${TMPDIR:-/tmp}/roster-$label-$(printf '%s' "$dir" | sha1sum | cut -c1-12).lock"
    (
        flock 9
        if [[ ! -d "$dir/node_modules" || "$dir/package-lock.json" -nt "$dir/node_modules" ]]; then
            roster_log "$label: npm ci in $dir"
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
            touch "$dir/node_modules"
        fi
    ) 9>"$lock"
}

# roster_harness_begin LABEL: sets DB (the database's name, LABEL_PID), WORK (a new temporary
# directory, where rosterd.log and setup.log go), ROSTERD_PID and SANDBOX_PID (empty until the
# caller starts them) and the traps: on exit both are stopped, rosterd's log tail is printed on
# a failure, the database is dropped (once roster_harness_db made it) and WORK removed.
roster_harness_begin() {
    ROSTER_HARNESS_LABEL=$1
    DB="${1}_$$"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-$1.XXXXXX")
    ROSTERD_PID=""
    SANDBOX_PID=""
    ROSTER_HARNESS_DB_CREATED=0
    trap roster_harness_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# shellcheck disable=SC2317  # reached through the EXIT trap
roster_harness_cleanup() {
    local rc=$? label=$ROSTER_HARNESS_LABEL
    set +e
    [[ -n "$ROSTERD_PID" ]] && roster_stop_pid "$ROSTERD_PID"
    [[ -n "$SANDBOX_PID" ]] && roster_stop_pid "$SANDBOX_PID"
    if [[ $rc -ne 0 && -f "$WORK/rosterd.log" ]]; then
        roster_log "$label: rosterd log (last 40 lines):"
        tail -n 40 "$WORK/rosterd.log" >&2
    fi
    if [[ $ROSTER_HARNESS_DB_CREATED -eq 1 ]]; then
        psql "$ROSTER_TEST_PG" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 ||
            roster_log "$label: could not drop database $DB"
    fi
    rm -rf "$WORK"
    exit "$rc"
}

# roster_setup_failed WHAT: says the setup failed, prints what the setup commands wrote, exits 1.
roster_setup_failed() {
    roster_log "$ROSTER_HARNESS_LABEL: setup failed: $*"
    cat "$WORK/setup.log" >&2 2>/dev/null || true
    exit 1
}

# roster_harness_db: creates DB on ROSTER_TEST_PG, exports the settings of a rosterd on it
# (ROSTER_DATABASE_URL, ROSTER_LISTEN on an ephemeral port, a fresh ROSTER_MASTER_KEY, no
# ROSTER_PUBLIC_URL) and runs `rosterd migrate` ($ROSTERD_BIN).
roster_harness_db() {
    export PGOPTIONS="-c client_min_messages=warning"
    roster_create_db "$ROSTER_TEST_PG" "$DB"
    ROSTER_HARNESS_DB_CREATED=1
    # In a keyword/value conninfo the last dbname wins.
    export ROSTER_DATABASE_URL="$ROSTER_TEST_PG dbname=$DB"
    export ROSTER_LISTEN=127.0.0.1:0
    export ROSTER_MASTER_KEY
    ROSTER_MASTER_KEY=$(roster_new_master_key)
    unset ROSTER_PUBLIC_URL
    # shellcheck disable=SC2153  # the caller's, checked before
    "$ROSTERD_BIN" migrate 2>>"$WORK/setup.log" || roster_setup_failed "rosterd migrate"
}
