#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and the demo: data in DIR/data, unix socket in DIR/sock,
# no TCP. Usage: pg-cluster.sh start [--fast] DIR | stop DIR | status DIR | conninfo DIR
# --fast (tests only) starts the server with fsync, synchronous_commit and full_page_writes off.
set -euo pipefail

PORT=5432

usage() {
    echo "usage: $0 start [--fast] DIR | stop DIR | status DIR | conninfo DIR" >&2
    exit 2
}

log() {
    echo "pg-cluster: $*" >&2
}

# The newest installed server: /usr/lib/postgresql/<major>/bin, by numeric major version.
find_bindir() {
    local dir major best="" best_major=-1
    for dir in /usr/lib/postgresql/*/bin; do
        major=$(basename "$(dirname "$dir")")
        if [[ "$major" =~ ^[0-9]+$ && -x "$dir/pg_ctl" ]] && ((major > best_major)); then
            best=$dir
            best_major=$major
        fi
    done
    if [[ -z "$best" ]]; then
        log "no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)"
        exit 1
    fi
    echo "$best"
}

# Runs a command as the cluster's owner: postgres when we are root (initdb refuses root).
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Where the cluster really lives: DIR itself, unless we are root and the postgres user cannot
# reach DIR (a clone under /root, say); then a directory under $TMPDIR named after DIR.
real_home() {
    local dir=$1 real sum
    if [[ $(id -u) -ne 0 ]]; then
        echo "$dir"
        return
    fi
    if [[ -L "$dir/data" ]]; then
        dirname "$(readlink "$dir/data")"
        return
    fi
    if [[ -e "$dir/data" ]] || runuser -u postgres -- test -x "$dir"; then
        echo "$dir"
        return
    fi
    real=$(realpath "$dir")
    sum=$(printf '%s' "$real" | sha1sum | cut -c1-12)
    echo "${TMPDIR:-/tmp}/roster-pg-$sum"
}

# Makes the data and socket directories, owned by the cluster's owner; links them from DIR
# when the cluster lives elsewhere.
prepare_dirs() {
    local dir=$1 home=$2
    mkdir -p "$dir" "$home/data" "$home/sock"
    chmod 700 "$home/data"
    if [[ "$home" != "$dir" ]]; then
        ln -sfn "$home/data" "$dir/data"
        ln -sfn "$home/sock" "$dir/sock"
        log "postgres cannot reach $dir; cluster lives in $home (linked from $dir/data, $dir/sock)"
    fi
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$home/data" "$home/sock"
        if [[ "$home" != "$dir" ]]; then
            chown postgres: "$home"
            chmod 755 "$home"
        fi
    fi
}

do_initdb() {
    local bindir=$1 home=$2 locale=C.UTF-8 locales
    locales=$(locale -a 2>/dev/null || true)
    if ! grep -qix 'c\.utf-\?8' <<<"$locales"; then
        locale=C
    fi
    if ! as_owner "$bindir/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 \
        --locale="$locale" >"$home/initdb.log" 2>&1; then
        cat "$home/initdb.log" >&2
        log "initdb failed"
        exit 1
    fi
    cat >>"$home/data/postgresql.conf" <<EOF

# pg-cluster.sh
listen_addresses = ''
port = $PORT
unix_socket_directories = '$home/sock'
max_connections = 200
EOF
}

is_running() {
    local bindir=$1 home=$2
    [[ -f "$home/data/PG_VERSION" ]] &&
        as_owner "$bindir/pg_ctl" status -D "$home/data" >/dev/null 2>&1
}

cmd_start() {
    local dir=$1 fast=$2 bindir home opts=""
    bindir=$(find_bindir)
    mkdir -p "$dir"
    # sun_path holds 107 bytes: clients connect through DIR/sock, wherever the server lives.
    if [[ ${#dir} -gt 85 ]]; then
        log "warning: $dir/sock/.s.PGSQL.$PORT may be too long for a unix socket path"
    fi
    home=$(real_home "$dir")
    if is_running "$bindir" "$home"; then
        return 0
    fi
    if [[ ! -f "$home/data/PG_VERSION" ]]; then
        prepare_dirs "$dir" "$home"
        do_initdb "$bindir" "$home"
    fi
    mkdir -p "$home/sock"
    touch "$home/postgres.log"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$home/sock" "$home/postgres.log"
    fi
    if [[ "$fast" == 1 ]]; then
        # Tests only: a crash may lose or corrupt data. Never for the demo.
        opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    if ! as_owner "$bindir/pg_ctl" start -D "$home/data" -w -t 60 -l "$home/postgres.log" \
        -o "$opts" >/dev/null; then
        tail -n 30 "$home/postgres.log" >&2 || true
        log "pg_ctl start failed (log: $home/postgres.log)"
        exit 1
    fi
}

cmd_stop() {
    local dir=$1 bindir home
    bindir=$(find_bindir)
    [[ -d "$dir" ]] || return 0
    home=$(real_home "$dir")
    if ! is_running "$bindir" "$home"; then
        return 0
    fi
    as_owner "$bindir/pg_ctl" stop -D "$home/data" -m fast -w -t 60 >/dev/null
}

cmd_status() {
    local dir=$1 bindir home
    bindir=$(find_bindir)
    if [[ ! -d "$dir" ]]; then
        echo "no cluster in $dir"
        return 3
    fi
    home=$(real_home "$dir")
    if is_running "$bindir" "$home"; then
        echo "running: $(cmd_conninfo "$dir")"
        return 0
    fi
    echo "stopped: $dir"
    return 3
}

cmd_conninfo() {
    echo "host=$1/sock port=$PORT user=postgres dbname=postgres"
}

main() {
    local cmd=${1:-} fast=0 dir="" arg
    [[ $# -ge 2 ]] || usage
    shift
    for arg in "$@"; do
        if [[ "$cmd" == start && "$arg" == --fast ]]; then
            fast=1
        elif [[ -z "$dir" && -n "$arg" ]]; then
            dir=$arg
        else
            usage
        fi
    done
    [[ -n "$dir" ]] || usage
    # Absolute: the socket directory goes into conninfo strings used from other directories.
    dir=$(realpath -ms -- "$dir")
    case "$cmd" in
    start) cmd_start "$dir" "$fast" ;;
    stop) cmd_stop "$dir" ;;
    status) cmd_status "$dir" ;;
    conninfo) cmd_conninfo "$dir" ;;
    *) usage ;;
    esac
}

main "$@"
