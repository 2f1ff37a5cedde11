#!/usr/bin/env bash
# Brings up the Roster demo on this machine: installs packages, builds, starts a private
# PostgreSQL under .demo/, migrates, starts rosterd, links an example company and prints
# commands to try. `scripts/demo.sh stop` stops it all. State stays in .demo/ between runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib.sh"
demo="$root/.demo"
listen=${ROSTER_LISTEN:-127.0.0.1:8080}

stop_demo() {
    if [ -f "$demo/rosterd.pid" ]; then
        roster_stop_pid "$(cat "$demo/rosterd.pid")" 15
        rm -f "$demo/rosterd.pid"
    fi
    if [ -d "$demo/pg" ]; then "$ROSTER_PG_CLUSTER" stop "$demo/pg"; fi
}

if [ "${1:-}" = "stop" ]; then
    stop_demo
    roster_log "demo stopped (data kept in .demo/; delete it to start over)"
    exit 0
fi

"$root/scripts/deps.sh"
roster_log "building"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target rosterd >/dev/null
bin="$root/build/rosterd"

mkdir -p "$demo"
[ -f "$demo/rosterd.pid" ] && roster_stop_pid "$(cat "$demo/rosterd.pid")" 15 && rm -f "$demo/rosterd.pid"
roster_log "starting PostgreSQL in .demo/pg"
"$ROSTER_PG_CLUSTER" start "$demo/pg"
admin=$("$ROSTER_PG_CLUSTER" conninfo "$demo/pg")
if [ "$(psql "$admin" -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'roster'")" != 1 ]; then
    psql "$admin" -q -c "CREATE DATABASE roster"
fi
export ROSTER_DATABASE_URL="${admin/dbname=postgres/dbname=roster}"
[ -f "$demo/master.key" ] || (umask 077 && roster_new_master_key >"$demo/master.key")
export ROSTER_MASTER_KEY=$(cat "$demo/master.key")
export ROSTER_LISTEN=$listen

"$bin" migrate 2>>"$demo/rosterd.log"
if [ ! -s "$demo/api.key" ]; then
    (umask 077 && "$bin" create-org "Demo app" >"$demo/api.key" 2>>"$demo/rosterd.log")
fi
key=$(cat "$demo/api.key")

roster_log "starting rosterd on $listen (log: .demo/rosterd.log)"
nohup setsid "$bin" serve >>"$demo/rosterd.log" 2>&1 </dev/null &
echo $! >"$demo/rosterd.pid"
if ! roster_wait_for_line "$demo/rosterd.log" "msg=\"listening\" addr=$listen" 30 "$(cat "$demo/rosterd.pid")" >/dev/null; then
    tail -n 20 "$demo/rosterd.log" >&2
    exit 1
fi
url="http://$listen"

if [ ! -s "$demo/account.token" ]; then
    roster_log "linking an example company (250 employees)"
    roster_link_example "$url" "$key" demo-acme 250 "$bin" >"$demo/account.token"
fi
token=$(cat "$demo/account.token")

cat <<MSG

Roster is running at $url  (stop it with: scripts/demo.sh stop)

  export ROSTER=$url
  export API_KEY=$key
  export ACCOUNT_TOKEN=$token

  # the first page of employees
  curl -s "\$ROSTER/api/hris/v1/employees?page_size=5" \\
       -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq .

  # who has left, with their manager expanded
  curl -s "\$ROSTER/api/hris/v1/employees?employment_status=INACTIVE&expand=manager" \\
       -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[] | {display_full_name, termination_date, manager: .manager.display_full_name}'

  # departments and cost centers, the linked account, health and metrics
  curl -s "\$ROSTER/api/hris/v1/groups" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[] | {name, type}'
  curl -s "\$ROSTER/api/hris/v1/account-details" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq .
  curl -s "\$ROSTER/readyz"; curl -s "\$ROSTER/metrics" | head

MSG
