#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the relay's tests.
#
#   scripts/postgres.sh start     installs PostgreSQL from Debian's packages if missing, creates a
#                                 cluster in a temporary directory, starts it on 127.0.0.1 on a free
#                                 port, creates the database and prints its URL (the only stdout line)
#   scripts/postgres.sh restart   stops the server (fast mode) and starts it again on the same port
#   scripts/postgres.sh stop      shuts it down and deletes the directory
#
# The cluster is found again through the state file $E2EE_PG_STATE (default /tmp/e2ee-relay-postgres),
# so that several clusters can coexist. As root, the server runs as the unprivileged `postgres` user
# (`nobody` if there is none): PostgreSQL refuses to run as root.
set -euo pipefail
state="${E2EE_PG_STATE:-/tmp/e2ee-relay-postgres}"

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

as_db_user() {
    if [ "$(id -u)" = 0 ]; then
        local user=postgres
        id -u postgres >/dev/null 2>&1 || user=nobody
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

start_server() {   # dir port
    as_db_user "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 30 \
        -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2
}

case "${1:-}" in
start)
    if [ -e "$state" ]; then echo "postgres.sh: $state exists (stop it first)" >&2; exit 1; fi
    bin=$(bindir || true)
    if [ -z "$bin" ]; then
        echo "== postgres.sh: installing PostgreSQL (Debian packages)" >&2
        [ "$(id -u)" = 0 ] || { echo "postgres.sh: PostgreSQL is missing and installing it needs root" >&2; exit 1; }
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
        bin=$(bindir)
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/e2ee-relay-pg.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$dir"
    # trust on loopback only: a throwaway test cluster, never a deployment.
    as_db_user "$bin/initdb" -D "$dir/data" -U relay --auth=trust -E UTF8 --no-sync >/dev/null
    for _ in $(seq 1 20); do
        port=$(( 20000 + RANDOM % 40000 ))
        # A port something answers on is taken; a failed start (a race) tries another.
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        if start_server "$dir" "$port"; then
            printf '%s\n%s\n%s\n' "$dir" "$port" "$bin" >"$state"
            as_db_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U relay relay
            echo "postgres://relay@127.0.0.1:$port/relay"
            exit 0
        fi
    done
    echo "postgres.sh: could not start PostgreSQL (see $dir/server.log)" >&2
    exit 1
    ;;
restart)
    { read -r dir; read -r port; read -r bin; } <"$state"
    as_db_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    start_server "$dir" "$port"
    ;;
stop)
    [ -e "$state" ] || exit 0
    { read -r dir; read -r port; read -r bin; } <"$state"
    as_db_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir" "$state"
    ;;
*)
    echo "usage: scripts/postgres.sh start|restart|stop" >&2
    exit 2
    ;;
esac
