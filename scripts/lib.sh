# Shell helpers shared by the demo, the test runner, conformance tests and benchmarks.
# Source it: . "$(dirname "$0")/lib.sh"   (bash; set -euo pipefail is the caller's choice)

ROSTER_ROOT=${ROSTER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ROSTER_PG_CLUSTER="$ROSTER_ROOT/tests/support/pg-cluster.sh"

roster_log() { printf '==> %s\n' "$*" >&2; }

# roster_wait_for_line FILE REGEX SECONDS [PID]: waits until a line of FILE matches and prints
# it; gives up at the deadline, or at once when process PID (if given) has exited.
roster_wait_for_line() {
    local file=$1 regex=$2 deadline=$((SECONDS + $3)) pid=${4:-} line
    while ((SECONDS < deadline)); do
        if [ -f "$file" ] && line=$(grep -m1 -E "$regex" "$file"); then
            printf '%s\n' "$line"
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

# roster_start_rosterd BIN LOGFILE: starts `BIN serve` in the background with the current
# ROSTER_* environment (ROSTER_LISTEN may use port 0), waits until it listens, and sets
# ROSTERD_PID and ROSTER_URL (http://HOST:PORT).
roster_start_rosterd() {
    local bin=$1 log=$2 line addr
    : >"$log"
    "$bin" serve >>"$log" 2>&1 &
    ROSTERD_PID=$!
    if ! line=$(roster_wait_for_line "$log" 'msg="listening"' 60 "$ROSTERD_PID"); then
        roster_log "rosterd did not start; its log:"
        tail -n 30 "$log" >&2
        kill "$ROSTERD_PID" 2>/dev/null || true
        return 1
    fi
    addr=$(printf '%s\n' "$line" | sed -E 's/.* addr=([^ ]+).*/\1/')
    ROSTER_URL="http://$addr"
    export ROSTER_URL ROSTERD_PID
}

# roster_stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (default 15), then SIGKILL; reaps.
roster_stop_pid() {
    local pid=$1 deadline=$((SECONDS + ${2:-15}))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# roster_new_master_key: base64 of 32 random bytes.
roster_new_master_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# roster_create_db CONNINFO NAME: creates database NAME (dropping an old one) on the cluster.
roster_create_db() {
    psql "$1" -v ON_ERROR_STOP=1 -qAt -c "DROP DATABASE IF EXISTS \"$2\"" -c "CREATE DATABASE \"$2\"" >/dev/null
}

# roster_link_example URL API_KEY ORIGIN N BIN: creates a linked account through the admin API
# (sandbox-style credentials, no base_url) and seeds it with an example company of N people.
# Prints the account token.
roster_link_example() {
    local url=$1 key=$2 origin=$3 n=$4 bin=$5 body id token
    body=$(curl -fsS -X POST "$url/api/admin/v1/linked-accounts" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"integration\":\"bamboohr\",\"end_user_origin_id\":\"$origin\",
             \"end_user_organization_name\":\"Acme ($origin)\",
             \"end_user_email_address\":\"hr@acme.example\",
             \"credentials\":{\"subdomain\":\"acme\",\"api_key\":\"sandbox\"}}")
    id=$(printf '%s' "$body" | jq -r .id)
    token=$(printf '%s' "$body" | jq -r .account_token)
    "$bin" seed-example "$id" "$n" >/dev/null 2>&1 || { roster_log "seeding failed"; return 1; }
    printf '%s\n' "$token"
}
