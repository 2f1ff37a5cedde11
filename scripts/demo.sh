#!/usr/bin/env bash
# Brings up the Roster demo on this machine: installs packages, builds, starts a private
# PostgreSQL under .demo/, the provider sandbox (an emulated BambooHR, Personio and HiBob), a
# webhook receiver and rosterd, links the sandbox's BambooHR company through the admin API,
# waits for the first sync and prints commands to try. `scripts/demo.sh stop` stops it all;
# state stays in .demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib.sh"
demo="$root/.demo"
listen=${ROSTER_LISTEN:-127.0.0.1:8080}
sandbox_listen=${ROSTER_DEMO_SANDBOX:-127.0.0.1:8090}
hooks_listen=${ROSTER_DEMO_HOOKS:-127.0.0.1:8091}

stop_demo() {
    for name in rosterd sandbox receiver; do
        if [ -f "$demo/$name.pid" ]; then
            roster_stop_pid "$(cat "$demo/$name.pid")" 15
            rm -f "$demo/$name.pid"
        fi
    done
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
cmake --build "$root/build" -j"$(nproc)" --target rosterd roster-sandbox roster-hook-receiver \
    >/dev/null
bin="$root/build/rosterd"

mkdir -p "$demo"
for name in rosterd sandbox receiver; do
    if [ -f "$demo/$name.pid" ]; then
        roster_stop_pid "$(cat "$demo/$name.pid")" 15
        rm -f "$demo/$name.pid"
    fi
done
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
export ROSTER_ALLOW_PRIVATE_UPSTREAMS=1 # the sandbox is on loopback

roster_log "starting the provider sandbox on $sandbox_listen (log: .demo/sandbox.log)"
: >"$demo/sandbox.log"
nohup setsid "$root/build/roster-sandbox" --listen "$sandbox_listen" --employees 250 --seed 1 \
    >>"$demo/sandbox.log" 2>&1 </dev/null &
echo $! >"$demo/sandbox.pid"
if ! roster_wait_for_line "$demo/sandbox.log" 'msg="listening"' 30 "$(cat "$demo/sandbox.pid")" >/dev/null; then
    tail -n 20 "$demo/sandbox.log" >&2
    exit 1
fi
sandbox="http://$sandbox_listen"

roster_log "starting a webhook receiver on $hooks_listen (it answers 204 and counts; log: .demo/receiver.log)"
: >"$demo/receiver.log"
nohup setsid "$root/build/roster-hook-receiver" --listen "$hooks_listen" \
    >>"$demo/receiver.log" 2>&1 </dev/null &
echo $! >"$demo/receiver.pid"
if ! roster_wait_for_line "$demo/receiver.log" 'msg="listening"' 30 "$(cat "$demo/receiver.pid")" >/dev/null; then
    tail -n 20 "$demo/receiver.log" >&2
    exit 1
fi

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

if [ ! -s "$demo/account.json" ]; then
    roster_log "linking the sandbox's BambooHR company"
    curl -fsS -X POST "$url/api/admin/v1/linked-accounts" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"integration\":\"bamboohr\",\"end_user_origin_id\":\"demo-acme\",
             \"end_user_organization_name\":\"Acme (sandbox)\",
             \"end_user_email_address\":\"hr@acme.example\",
             \"credentials\":{\"subdomain\":\"acme\",\"api_key\":\"sandbox\"},
             \"base_url\":\"$sandbox/bamboohr\"}" >"$demo/account.json"
else
    # the sandbox starts afresh: resync what it serves now
    curl -fsS -X POST "$url/api/admin/v1/linked-accounts/$(jq -r .id "$demo/account.json")/syncs" \
        -H "Authorization: Bearer $key" >/dev/null
fi
account=$(jq -r .id "$demo/account.json")
token=$(jq -r .account_token "$demo/account.json")

roster_log "waiting for the sync"
deadline=$((SECONDS + 90))
status=""
while ((SECONDS < deadline)); do
    status=$(curl -fsS "$url/api/admin/v1/linked-accounts/$account/syncs" \
        -H "Authorization: Bearer $key" | jq -r '.results[0].status')
    case $status in DONE | FAILED | PAUSED) break ;; esac
    sleep 0.5
done
if [ "$status" != DONE ]; then
    roster_log "the sync ended $status; see .demo/rosterd.log"
    curl -fsS "$url/api/admin/v1/linked-accounts/$account/syncs" -H "Authorization: Bearer $key" | jq '.results[0]' >&2
    exit 1
fi
employees=$(curl -fsS "$url/api/admin/v1/linked-accounts/$account/syncs" \
    -H "Authorization: Bearer $key" | jq '.results[0].stats.Employee | .inserted + .updated + .unchanged')
roster_log "synced $employees employees from the sandbox's BambooHR"

cat <<MSG

Roster is running at $url, syncing an emulated BambooHR at $sandbox/bamboohr
(stop both with: scripts/demo.sh stop)

  export ROSTER=$url
  export API_KEY=$key
  export ACCOUNT_TOKEN=$token

  # the first page of employees
  curl -s "\$ROSTER/api/hris/v1/employees?page_size=5" \\
       -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq .

  # who has left, with their manager expanded
  curl -s "\$ROSTER/api/hris/v1/employees?employment_status=INACTIVE&expand=manager" \\
       -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[] | {display_full_name, termination_date, manager: .manager.display_full_name}'

  # how the syncs went, and a sync now (Merge's endpoints)
  curl -s "\$ROSTER/api/hris/v1/sync-status" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[0]'
  curl -s -X POST "\$ROSTER/api/hris/v1/sync-status/resync" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.[0].status'

  # change the HRIS (the sandbox's control API), sync, and see the change
  curl -s -X POST $sandbox/_control/employees/3/terminate -d '{"date":"2026-11-20"}' >/dev/null
  curl -s -X POST "\$ROSTER/api/hris/v1/sync-status/resync" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" >/dev/null; sleep 1
  curl -s "\$ROSTER/api/hris/v1/employees?remote_id=4" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[0] | {display_full_name, employment_status, termination_date}'

  # connect another company as its HR admin would: a magic link to the hosted connect pages
  # (open the printed URL in a browser; the sandbox takes any client id and the secret "sandbox")
  curl -s -X POST "\$ROSTER/api/hris/v1/link-token" -H "Authorization: Bearer \$API_KEY" \\
       -d '{"end_user_email_address": "hr@globex.example", "end_user_organization_name": "Globex",
            "end_user_origin_id": "globex", "categories": ["hris"], "integration": "personio",
            "base_url": "$sandbox/personio", "should_create_magic_link_url": true}' | jq -r .magic_link_url

  # webhooks: an endpoint at the demo's receiver (its signing secret is shown once), a change,
  # and the delivery log (events, status, attempts), the body of one message, the receiver's count
  HOOK=\$(curl -s -X POST "\$ROSTER/api/admin/v1/webhook-endpoints" -H "Authorization: Bearer \$API_KEY" \\
       -d '{"url": "http://$hooks_listen/hooks"}' | jq -r .id)
  curl -s -X PATCH $sandbox/_control/employees/7 -d '{"title":"Head of Webhooks"}' >/dev/null
  curl -s -X POST "\$ROSTER/api/hris/v1/sync-status/resync" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" >/dev/null; sleep 1
  curl -s "\$ROSTER/api/admin/v1/webhook-endpoints/\$HOOK/deliveries" -H "Authorization: Bearer \$API_KEY" | jq '.results[] | {event, status, attempts}'
  curl -s "\$ROSTER/api/admin/v1/webhook-endpoints/\$HOOK/deliveries?event=Employment.changed" -H "Authorization: Bearer \$API_KEY" | jq -r '.results[0].id' |
       xargs -I{} curl -s "\$ROSTER/api/admin/v1/webhook-endpoints/\$HOOK/messages/{}" -H "Authorization: Bearer \$API_KEY" | jq '.payload | {hook, linked_account: .linked_account.end_user_organization_name, employee: .data.employee, job_title: .data.job_title}'
  curl -s http://$hooks_listen/count

  # departments and divisions, the linked account, health and metrics
  curl -s "\$ROSTER/api/hris/v1/groups" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq '.results[] | {name, type}'
  curl -s "\$ROSTER/api/hris/v1/account-details" -H "Authorization: Bearer \$API_KEY" -H "X-Account-Token: \$ACCOUNT_TOKEN" | jq .
  curl -s "\$ROSTER/readyz"; curl -s "\$ROSTER/metrics" | head

MSG
