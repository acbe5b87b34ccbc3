#!/usr/bin/env bash
# deploy/quickstart.sh: the README's first command. On a fresh Debian 12 machine it installs the
# missing packages (deploy/packages-build.txt), builds Release into build/, and runs
# `helpdeskflow serve` in the foreground on HDF_LISTEN (default 127.0.0.1:8080).
#
# Database: DATABASE_URL when set; otherwise a private Postgres cluster under ./var/pg (own
# port, HDF_PG_PORT or the next free one from 54329; own socket dir; listening on 127.0.0.1
# only; run as the `postgres` user when we are root). Migrations are applied on every start. On
# the first start (no workspace `demo` yet) it creates workspace `demo` and an admin API key
# and prints the token, once.
#
# Ctrl-C (or SIGTERM) stops the server gracefully, then the cluster. Re-running reuses
# everything under ./var: the cluster, its password (var/pgpass) and HDF_SECRET_KEY
# (var/secret_key, generated on the first run unless HDF_SECRET_KEY is set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
# shellcheck source=deploy/packages.sh
source deploy/packages.sh

PG_BINDIR=${HDF_PG_BINDIR:-/usr/lib/postgresql/15/bin}
PGDIR=$ROOT/var/pg
export HDF_LISTEN=${HDF_LISTEN:-127.0.0.1:8080}

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'quickstart: %s\n' "$*" >&2
    exit 1
}

# Until the server runs, a signal just exits, so that the EXIT trap below cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Postgres refuses to run as root: as root, its commands run as the `postgres` user (from /, so
# that a checkout it cannot read is no bother); otherwise as ourselves.
as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# random_hex N: N random bytes as 2N hex digits.
random_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# As root, the postgres user must be able to reach ./var/pg. When the checkout sits under a
# private directory (e.g. /root), give that user traverse permission only (no listing, no
# reading) on the directories in the way, with an ACL, and say so.
grant_pg_traverse() {
    ((EUID == 0)) || return 0
    local path="" part
    local -a parts
    IFS=/ read -r -a parts <<<"${ROOT#/}/var"
    for part in "${parts[@]}"; do
        path+="/$part"
        if ! runuser -u postgres -- test -x "$path" 2>/dev/null; then
            say "letting the postgres user traverse $path (setfacl -m u:postgres:x)"
            setfacl -m u:postgres:x "$path" ||
                die "the postgres user cannot reach $PGDIR; run 'chmod o+x $path' or set DATABASE_URL"
        fi
    done
}

# Creates the cluster on the first run: scram-sha-256 everywhere, with a generated password for
# the `postgres` role kept in var/pgpass (0600, a libpq password file).
init_cluster() {
    say "creating a private Postgres cluster in $PGDIR"
    local -a owner=()
    if ((EUID == 0)); then
        owner=(-o postgres -g postgres)
    fi
    install -d -m 0700 "${owner[@]}" "$PGDIR" "$PGDIR/sock"

    local password pwfile=$PGDIR/initdb.pw
    password=$(random_hex 24)
    (umask 077 && printf '127.0.0.1:*:*:postgres:%s\n' "$password" >"$ROOT/var/pgpass")
    (umask 077 && printf '%s\n' "$password" >"$pwfile")
    if ((EUID == 0)); then
        chown postgres:postgres "$pwfile"
    fi
    as_pg "$PG_BINDIR/initdb" -D "$PGDIR/data" -U postgres -A scram-sha-256 --pwfile="$pwfile" \
        -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 || {
        rm -f "$pwfile"
        cat "$PGDIR/initdb.log" >&2
        die "initdb failed"
    }
    rm -f "$pwfile"

    # The unix socket lives in our own directory (0700); its path must fit in sun_path
    # (107 bytes), else the cluster is reached over TCP only.
    local sockdir=$PGDIR/sock
    if ((${#sockdir} + 20 > 107)); then
        sockdir=""
    fi
    cat >>"$PGDIR/data/postgresql.conf" <<EOF

# deploy/quickstart.sh: a private development cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
unix_socket_permissions = 0700
EOF
}

# Starts the cluster (or adopts one left running by an earlier run that was killed) and sets
# PG_PORT. The lock taken below guarantees no other quickstart.sh is using it.
start_cluster() {
    if as_pg "$PG_BINDIR/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
        PG_PORT=$(sed -n 4p "$PGDIR/data/postmaster.pid")
        say "Postgres already running in $PGDIR on port $PG_PORT: using it"
        return
    fi
    PG_PORT=${HDF_PG_PORT:-54329}
    local last=$((PG_PORT + 100))
    while port_in_use "$PG_PORT"; do
        PG_PORT=$((PG_PORT + 1))
        ((PG_PORT <= last)) || die "no free port in ${HDF_PG_PORT:-54329}..$last for Postgres"
    done
    say "starting Postgres on 127.0.0.1:$PG_PORT (log: var/pg/log)"
    as_pg "$PG_BINDIR/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -t 60 -o "-p $PG_PORT" start 9>&- >/dev/null || {
        tail -n 20 "$PGDIR/log" >&2 || true
        die "Postgres did not start"
    }
}

stop_cluster() {
    say "stopping Postgres"
    as_pg "$PG_BINDIR/pg_ctl" -D "$PGDIR/data" -m fast -w -t 60 stop >/dev/null || true
}

SERVER_PID=""
CLUSTER_STARTED=0
on_exit() {
    local rc=$?
    trap - INT TERM HUP EXIT
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if ((CLUSTER_STARTED)); then
        stop_cluster
    fi
    exit "$rc"
}
trap on_exit EXIT

use_private_cluster() {
    [[ -x "$PG_BINDIR/initdb" ]] || die "no Postgres in $PG_BINDIR (set HDF_PG_BINDIR or DATABASE_URL)"
    install -d -m 0711 "$ROOT/var"
    grant_pg_traverse
    [[ -f "$PGDIR/data/PG_VERSION" ]] || init_cluster
    [[ -f "$ROOT/var/pgpass" ]] || die "var/pgpass is missing: remove var/pg to start afresh"
    start_cluster
    CLUSTER_STARTED=1

    # The password stays out of DATABASE_URL (and so out of any log): libpq finds it here.
    export PGPASSFILE=$ROOT/var/pgpass
    local admin_url="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
    if [[ -z "$(psql "$admin_url" -XAtq -c "select 1 from pg_database where datname = 'helpdeskflow'")" ]]; then
        say "creating database helpdeskflow"
        psql "$admin_url" -XAtq -v ON_ERROR_STOP=1 -c 'create database helpdeskflow' >/dev/null
    fi
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/helpdeskflow"
    say "database: $DATABASE_URL (password in var/pgpass: PGPASSFILE=var/pgpass psql '$DATABASE_URL')"
}

# HDF_SECRET_KEY (64 hex chars) encrypts webhook secrets at rest: generate it once, keep it.
load_secret_key() {
    if [[ -z "${HDF_SECRET_KEY:-}" ]]; then
        if [[ ! -s "$ROOT/var/secret_key" ]]; then
            say "generating HDF_SECRET_KEY into var/secret_key"
            (umask 077 && random_hex 32 >"$ROOT/var/secret_key")
        fi
        HDF_SECRET_KEY=$(<"$ROOT/var/secret_key")
    fi
    [[ "$HDF_SECRET_KEY" =~ ^[0-9a-fA-F]{64}$ ]] || die "HDF_SECRET_KEY (or var/secret_key) is not 64 hex characters"
    export HDF_SECRET_KEY
}

# base_url: where curl should go, derived from HDF_LISTEN (host:port or [v6]:port).
base_url() {
    local scheme=http hostport=$HDF_LISTEN
    [[ -n "${HDF_TLS_CERT:-}" ]] && scheme=https
    case $hostport in
    0.0.0.0:*) hostport=127.0.0.1:${hostport#0.0.0.0:} ;;
    '[::]':*) hostport="[::1]:${hostport#"[::]:"}" ;;
    esac
    printf '%s://%s' "$scheme" "$hostport"
}

# First start: workspace `demo` and an admin key, in one transaction, the token shown once.
create_demo_workspace() {
    local exists out token
    exists=$(psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "select 1 from workspaces where slug = 'demo'")
    [[ -z "$exists" ]] || return 0
    out=$(psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 --single-transaction \
        -c "select slug from hdf_admin.create_workspace('demo', 'Demo workspace')" \
        -c "select token from hdf_admin.create_api_key('demo', 'admin', 'quickstart')")
    token=$(grep -E '^hdf_[A-Za-z0-9]{40}$' <<<"$out" | tail -n 1) || die "create_api_key returned no token"
    cat <<EOF

------------------------------------------------------------------------------------------
 Created workspace "demo" and an admin API key for it. The token is shown only this once:

     $token

 Try it once the server is up:

     curl -H "Authorization: Bearer $token" $(base_url)/v1/me

 More keys: psql, select * from hdf_admin.create_api_key('demo', 'agent', 'my label');
------------------------------------------------------------------------------------------

EOF
}

# Runs the server in its own session, so that Ctrl-C reaches only this script, which then
# sends SIGTERM (graceful shutdown) and waits for it; the EXIT trap stops the cluster after.
serve() {
    say "starting helpdeskflow serve on $(base_url) (Ctrl-C to stop)"
    setsid build/helpdeskflow serve 9>&- &
    SERVER_PID=$!
    trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true' INT TERM HUP
    local rc=0
    while :; do
        rc=0
        wait "$SERVER_PID" || rc=$?
        kill -0 "$SERVER_PID" 2>/dev/null || break
    done
    SERVER_PID=""
    say "server exited (status $rc)"
    return "$rc"
}

hdf_install_packages deploy/packages-build.txt

# One quickstart per checkout: it owns build/, the cluster and the port. Children close fd 9,
# so a server or Postgres left behind by a killed run does not hold the lock.
install -d -m 0711 "$ROOT/var"
exec 9>"$ROOT/var/quickstart.lock"
flock -n 9 || die "another deploy/quickstart.sh is running here (var/quickstart.lock)"

say "building Release into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release 9>&-
cmake --build build -j"$(nproc)" 9>&-

if [[ -z "${DATABASE_URL:-}" ]]; then
    use_private_cluster
fi
load_secret_key

say "applying migrations"
build/helpdeskflow migrate 9>&-
create_demo_workspace
serve
