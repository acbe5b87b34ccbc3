#!/usr/bin/env bash
# tests/bench/run.sh [--quick]: the benchmark of docs/benchmarks.md (DESIGN.md, Benchmark). Not
# part of CI. Measures what the API achieves against what Postgres achieves running the same SQL
# on the same machine in the same run:
#   1. installs what is missing (deploy/packages-build.txt, deploy/packages-bench.txt), builds
#      Release into build-bench/ (helpdeskflow, and bench_sql, which prints the pgbench scripts
#      from the server's own SQL: tests/bench/bench_sql.c);
#   2. starts a private Postgres 15 cluster in a temp dir (own socket dir and port, run as the
#      postgres user, fixed settings it prints), migrates, creates a workspace and an admin key;
#   3. seeds 10k customers and 100k tickets with messages, tags and custom fields in SQL
#      (tests/bench/seed.sql), then VACUUM ANALYZE;
#   4. starts `helpdeskflow serve`, checks every scenario's request once (status, shape, the
#      deep cursor), and every generated pgbench script once (pgbench -t 1);
#   5. per scenario, at 64 connections: wrk (tests/bench/lua/) then pgbench (-M prepared, same
#      client count, -j 2, same duration), each after a short warm-up; any non-2xx response or
#      pgbench error fails the run; then server RSS, and 1,000 open connections;
#   6. prints a Markdown table and writes it, with machine, settings and statement lists, between
#      the bench markers of docs/benchmarks.md (only when every step passed).
# Full mode: 20 s per measured run (about 8 minutes), and pgbench once more per scenario at the
# server's pool size (its own ceiling at the database concurrency the server uses); --quick: 4 s
# per run, no pgbench warm-up, no pool-size run (under 2 minutes).
# Everything it started is stopped on exit, failure or Ctrl-C; HDF_BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
# shellcheck source=deploy/packages.sh
source deploy/packages.sh

MODE=full
DURATION=20 # seconds per measured run
WARMUP=3    # seconds of warm-up before each measured run (wrk and pgbench alike)
PGBENCH_WARMUP=$WARMUP
POOL_RUN=1 # pgbench also at the server's database concurrency (HDF_THREADS x HDF_DB_CONNS_PER_THREAD)
DURATION_1K=10
case "${1:-}" in
--quick) MODE=quick DURATION=4 WARMUP=1 PGBENCH_WARMUP=0 DURATION_1K=5 POOL_RUN=0 ;;
'') ;;
*)
    echo "usage: tests/bench/run.sh [--quick]" >&2
    exit 2
    ;;
esac
CONNS=64
CONNS_1K=1000
DB_CONNS_PER_THREAD=4
# lock_timeout covers every lock a PATCH waits for, not only the row lock: at 64 pgbench clients
# the default 50 ms turns waits for the tickets table's extension lock (every non-HOT update
# needs room at its end) into aborted clients. No two PATCHes share a ticket here, so this only
# keeps lock waits from failing the run; server and pgbench use the same value.
LOCK_MS=1000
PGBENCH_JOBS=2
NCPU=$(nproc)
WRK_THREADS=$NCPU
SCENARIOS=(get create patch list list_deep mixed)
MIXED_WEIGHTS=(get@70 patch@20 create@10) # mixed.lua and mixed_mean() use the same weights
DEEP_PAGE=2000
PAGE_SIZE=25
PG_BIN=${HDF_PG_BIN:-/usr/lib/postgresql/15/bin}
BUILD=$ROOT/build-bench
DOC=$ROOT/docs/benchmarks.md
STARTED_AT=$(date +%s)

say() { printf '==> [%3ds] %s\n' $(($(date +%s) - STARTED_AT)) "$*"; }
die() {
    printf 'bench: FAILED: %s\n' "$*" >&2
    exit 1
}

# ---- cleanup: whatever was started is stopped, in reverse order ----
WORK=""
SERVER_PID=""
NOLIMIT_PID=""
BG_PID=""
PG_STARTED=0
as_pg() { (cd / && runuser -u postgres -- "$@"); }
on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n "$BG_PID" ]] && kill -0 "$BG_PID" 2>/dev/null; then
        kill "$BG_PID" 2>/dev/null || true
        wait "$BG_PID" 2>/dev/null || true
    fi
    if [[ -n "$NOLIMIT_PID" ]] && kill -0 "$NOLIMIT_PID" 2>/dev/null; then
        kill -TERM "$NOLIMIT_PID" 2>/dev/null || true
        wait "$NOLIMIT_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if ((rc != 0)) && [[ -n "$WORK" && -f "$WORK/server.log" ]]; then
        echo "---- last lines of the server log ----" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    if ((PG_STARTED)); then # a throw-away cluster: no shutdown checkpoint
        as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [[ -n "$WORK" ]]; then
        if [[ "${HDF_BENCH_KEEP:-0}" == 1 ]]; then
            echo "bench: kept $WORK" >&2
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

((EUID == 0)) || die "run as root: the cluster runs as the postgres user (runuser), and 1,000 connections need ulimit -n"

# ---- 1. packages and build ----
hdf_install_packages deploy/packages-build.txt deploy/packages-bench.txt
for tool in "$PG_BIN/pgbench" "$PG_BIN/initdb" "$PG_BIN/psql"; do
    [[ -x "$tool" ]] || die "$tool is missing (postgresql-15)"
done
command -v wrk >/dev/null || die "wrk is missing"
# wrk and the server each hold one descriptor per connection: raise the soft limit (the hard
# limit may be below 65536 in a container; 1,000 connections need a little over 1,000)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= CONNS_1K + 200)) || die "the open file limit ($(ulimit -n)) is too low for $CONNS_1K connections"

say "building Release into build-bench/"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHDF_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$NCPU" --target helpdeskflow bench_sql >/dev/null
BIN=$BUILD/helpdeskflow

# ---- 2. Postgres ----
WORK=$(mktemp -d /tmp/hdf-bench.XXXXXX)
chmod 0755 "$WORK"
install -d -m 0700 -o postgres -g postgres "$WORK/pg" "$WORK/pg/sock"
PG_SOCK=$WORK/pg/sock
PG_PORT=$((55000 + RANDOM % 5000)) # names the socket file only: no TCP listener
PG_SETTINGS=(
    "listen_addresses = ''"
    "max_connections = 200"
    "shared_buffers = 1GB"
    "effective_cache_size = 4GB"
    "work_mem = 8MB"
    "maintenance_work_mem = 256MB"
    "fsync = on"
    "synchronous_commit = off"
    "full_page_writes = on"
    "wal_buffers = 16MB"
    "max_wal_size = 8GB"
    "checkpoint_timeout = 30min"
    "random_page_cost = 1.1"
    "jit = off"
    "autovacuum = on"
)
say "starting Postgres ($("$PG_BIN/postgres" --version)) in $WORK/pg, socket $PG_SOCK port $PG_PORT"
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
    {
        cat "$WORK/initdb.log" >&2
        die "initdb failed"
    }
{
    echo "# tests/bench/run.sh"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$PG_SOCK'"
    printf '%s\n' "${PG_SETTINGS[@]}"
} >>"$WORK/pg/data/postgresql.conf"
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/postgres.log" -w -t 60 start >/dev/null ||
    {
        tail -n 20 "$WORK/pg/postgres.log" >&2
        die "Postgres did not start"
    }
PG_STARTED=1
pq() { "$PG_BIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d hdf "$@"; }
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE hdf'
export DATABASE_URL="postgresql:///hdf?host=$PG_SOCK&port=$PG_PORT&user=postgres"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || {
    cat "$WORK/migrate.log" >&2
    die "helpdeskflow migrate failed"
}
IFS='|' read -r WS KEY_ID TOKEN < <(pq -c "SELECT w.workspace_id, k.key_id, k.token
    FROM hdf_admin.create_workspace('bench', 'Benchmark') w, hdf_admin.create_api_key('bench', 'admin', 'bench') k")
[[ "$TOKEN" =~ ^hdf_[A-Za-z0-9]{40}$ ]] || die "create_api_key returned no token"

# ---- 3. seed ----
say "seeding 10k customers, 100k tickets with messages, tags, custom fields and audit entries"
SEED_START=$(date +%s.%N)
seed() { # PART [LO HI]: a part of tests/bench/seed.sql, its output in $WORK/seed-PART[-LO].log
    pq -v ws="$WS" -v key="$KEY_ID" -v part="$1" -v lo="${2:-0}" -v hi="${3:-0}" -f tests/bench/seed.sql \
        >"$WORK/seed-$1${2:+-$2}.log" 2>&1 || {
        cat "$WORK/seed-$1${2:+-$2}.log" >&2
        return 1
    }
}
seed base || die "seeding failed"
# the tickets (with their messages and audit entries) in two id ranges side by side
seed tickets 1 50000 &
BG_PID=$!
seed tickets 50001 100000 || die "seeding tickets 50001..100000 failed"
wait "$BG_PID" || die "seeding tickets 1..50000 failed"
BG_PID=""
seed finish || die "seeding failed"
pq -c 'VACUUM (ANALYZE)' >/dev/null
SEED_SECONDS=$(awk -v a="$SEED_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
IFS='|' read -r T0 T1 NTICKETS NMESSAGES NCUST NAUDIT DBSIZE < <(pq -c "SELECT min(id), max(id), count(*),
    (SELECT count(*) FROM messages), (SELECT count(*) FROM customers), (SELECT count(*) FROM audit_log),
    pg_size_pretty(pg_database_size('hdf')) FROM tickets WHERE workspace_id = $WS")
((NTICKETS == T1 - T0 + 1)) || die "seeded ticket ids are not contiguous ($T0..$T1, $NTICKETS rows)"
SEED_FACTS="$NCUST customers, $NTICKETS tickets, $NMESSAGES messages, $NAUDIT audit entries; database $DBSIZE; seeded in ${SEED_SECONDS} s"
say "$SEED_FACTS"

# ---- 4. server ----
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
HTTP_PORT=$((20000 + RANDOM % 10000))
while port_in_use "$HTTP_PORT"; do HTTP_PORT=$((HTTP_PORT + 1)); done
BASE=http://127.0.0.1:$HTTP_PORT
SERVER_ENV=(
    "HDF_LISTEN=127.0.0.1:$HTTP_PORT"
    "HDF_THREADS=$NCPU"
    "HDF_DB_CONNS_PER_THREAD=$DB_CONNS_PER_THREAD"
    "HDF_LOCK_TIMEOUT_MS=$LOCK_MS"
    "HDF_LOG_LEVEL=info"
    "HDF_RATE_LIMIT_TICKET_CREATE=1000000000/60"
    "HDF_RATE_LIMIT_TICKET_UPDATE=1000000000/60"
    "HDF_RATE_LIMIT_CUSTOMER=1000000000/60"
    "HDF_RATE_LIMIT_READ=1000000000/60"
    "HDF_RATE_LIMIT_ADMIN=1000000000/60"
)
DB_CONNS_TOTAL=$((NCPU * DB_CONNS_PER_THREAD))
say "starting helpdeskflow serve on $BASE (log: $WORK/server.log)"
env "${SERVER_ENV[@]}" HDF_SECRET_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
    setsid "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" 2>/dev/null)" == 200 ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
    sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" == 200 ]] || die "the server is not ready after 30 s"

AUTH=(-H "Authorization: Bearer $TOKEN")
# api METHOD PATH [BODY]: the response body on stdout, its status in $WORK/status
api() {
    local -a body=()
    if (($# > 2)); then
        body=(-H 'Content-Type: application/json' --data-binary "$3")
    fi
    curl -sS -o "$WORK/response" -w '%{http_code}' -X "$1" "${AUTH[@]}" "${body[@]}" "$BASE$2" >"$WORK/status"
    cat "$WORK/response"
}
expect_status() {
    [[ "$(<"$WORK/status")" == "$1" ]] || die "$2 answered $(<"$WORK/status"), not $1: $(head -c 400 "$WORK/response")"
}
# json EXPR JSON: evaluates a SQL expression over :'j' (the JSON, as text) in Postgres
json() {
    printf 'SELECT %s;\n' "$1" | pq -v j="$2"
}

# ---- 5. one request of each kind, and the deep cursor ----
BODY_HTML='<p>Hello,</p><p>my order <b>#48213</b> has not arrived yet. The tracking page has said <i>in transit</i> since Tuesday. Could you <a href="https://shop.example.com/orders/48213">check with the carrier</a>?</p><p>Thanks,<br>Ada</p>'
RUN_TAG=$(date +%s)
say "checking one request of each scenario"
api GET /v1/me >/dev/null
expect_status 200 "GET /v1/me"
api GET "/v1/tickets/$T0" >/dev/null
expect_status 200 "GET /v1/tickets/$T0"
created=$(api POST /v1/tickets "{\"subject\":\"Harness check\",\"customer\":{\"email\":\"check-$RUN_TAG@bench.example.com\",\"name\":\"Bench Customer\"},\"body\":$(json "to_json(:'j'::text)" "$BODY_HTML"),\"tags\":[\"billing\",\"shipping\"]}")
expect_status 201 "POST /v1/tickets"
# pgbench stores what the server stores: the sanitized body
BODY_STORED=$(json "(:'j'::json)->'messages'->0->>'body'" "$created")
[[ -n "$BODY_STORED" ]] || die "POST /v1/tickets returned no first message"
api PATCH "/v1/tickets/$T0" '{"subject":"Harness check","priority":"high"}' >/dev/null
expect_status 200 "PATCH /v1/tickets/$T0"
page1=$(api GET "/v1/tickets?limit=$PAGE_SIZE")
expect_status 200 "GET /v1/tickets?limit=$PAGE_SIZE"
# the cursor after row OFFSET+1 of the newest-first list, as tickets.c and cursor.c make it:
# base64url without padding of "tk:<sort 1>|<created_at in µs>|<id>"; then the next row's id
cursor_at() {
    pq -F ' ' -c "WITH r AS (SELECT t.id, (extract(epoch FROM t.created_at) * 1000000)::bigint AS pos,
            row_number() OVER () AS k
        FROM (SELECT id, created_at FROM tickets WHERE workspace_id = $WS ORDER BY created_at DESC, id DESC
              OFFSET $1 LIMIT 2) t)
        SELECT a.pos, a.id, rtrim(translate(encode(convert_to('tk:1|' || a.pos || '|' || a.id, 'UTF8'), 'base64'),
               E'+/\\n', '-_'), '='), b.id FROM r a JOIN r b ON b.k = 2 WHERE a.k = 1"
}
read -r _ _ cursor2 _ < <(cursor_at $((PAGE_SIZE - 1)))
next1=$(json "(:'j'::json)->>'next_cursor'" "$page1")
[[ "$next1" == "$cursor2" ]] || die "the cursor computed here ($cursor2) is not the one the API returned ($next1)"
read -r DEEP_POS DEEP_AFTER DEEP_CURSOR DEEP_FIRST < <(cursor_at $(((DEEP_PAGE - 1) * PAGE_SIZE - 1)))
deep=$(api GET "/v1/tickets?limit=$PAGE_SIZE&cursor=$DEEP_CURSOR")
expect_status 200 "GET /v1/tickets (page $DEEP_PAGE)"
read -r deep_n deep_first < <(json "json_array_length((:'j'::json)->'data'), (:'j'::json)->'data'->0->>'id'" "$deep" | tr '|' ' ')
((deep_n == PAGE_SIZE && deep_first == DEEP_FIRST)) ||
    die "page $DEEP_PAGE has $deep_n items starting at id $deep_first, not $PAGE_SIZE from id $DEEP_FIRST"

# ---- pgbench scripts, from the server's SQL; each must run once without error ----
PGB=("$PG_BIN/pgbench" -n -M prepared -h "$PG_SOCK" -p "$PG_PORT" -U postgres)
PGB_VARS=(-D "ws=$WS" -D "key=$KEY_ID" -D "t0=$T0" -D "t1=$T1" -D "ncust=$NCUST" -D "body=$BODY_STORED"
    -D "n=0" -D "clients=$CONNS" -D "pos=$DEEP_POS" -D "after=$DEEP_AFTER" -D "lock_ms=$LOCK_MS"
    -D "rv=$(pq -c "SELECT hdf_rules_version($WS)")")
# the server's session (hdf_session_setup_sql): role hdf_server, UTC, ISO dates, statement timeout
export PGOPTIONS="-c role=hdf_server -c TimeZone=UTC -c DateStyle=ISO -c statement_timeout=30s"
"$BUILD/bench_sql" --list >"$WORK/statements.tsv"
declare -A STMT_COUNT TRIP_COUNT STMT_LIST
while IFS=$'\t' read -r name count trips list; do
    STMT_COUNT[$name]=$count
    TRIP_COUNT[$name]=$trips
    STMT_LIST[$name]=$list
    "$BUILD/bench_sql" "$name" >"$WORK/$name.pgbench"
    "${PGB[@]}" -c 1 -j 1 -t 1 -f "$WORK/$name.pgbench" "${PGB_VARS[@]}" -D "tag=check$RUN_TAG" hdf >"$WORK/check.out" 2>&1 ||
        {
            cat "$WORK/check.out" >&2
            die "the pgbench script of $name does not run (pgbench -t 1); it is in $WORK/$name.pgbench"
        }
    grep -q '^number of failed transactions: 0 ' "$WORK/check.out" || {
        cat "$WORK/check.out" >&2
        die "the pgbench script of $name failed its one transaction"
    }
done <"$WORK/statements.tsv"
STMT_LIST[mixed]="70% get, 20% patch, 10% create"
mixed_mean() { # the mixed workload's mean of a per-scenario count (MIXED_WEIGHTS)
    awk -v g="$1" -v p="$2" -v c="$3" 'BEGIN { printf "%.1f", 0.7 * g + 0.2 * p + 0.1 * c }'
}
STMT_COUNT[mixed]=$(mixed_mean "${STMT_COUNT[get]}" "${STMT_COUNT[patch]}" "${STMT_COUNT[create]}")
TRIP_COUNT[mixed]=$(mixed_mean "${TRIP_COUNT[get]}" "${TRIP_COUNT[patch]}" "${TRIP_COUNT[create]}")

# ---- measuring ----
# metrics: "requests round_trips statements" from /metrics ("-" for a counter the server lacks);
# requests are all but /metrics' own
metrics() {
    curl -fsS "$BASE/metrics" | awk '
        /^hdf_http_requests_total\{/ && !/route="\/metrics"/ { req += $NF }
        /^hdf_db_round_trips_total[{ ]/ { rt += $NF; has_rt = 1 }
        /^hdf_db_statements_total[{ ]/ { st += $NF; has_st = 1 }
        END { printf "%.0f %s %s\n", req, has_rt ? sprintf("%.0f", rt) : "-", has_st ? sprintf("%.0f", st) : "-" }'
}
per_request() { # DELTA_COUNTER DELTA_REQUESTS, or n/a
    if [[ "$1" == - ]] || (($2 == 0)); then echo n/a; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}
counter_delta() { if [[ "$1" == - || "$2" == - ]]; then echo -; else echo $(($2 - $1)); fi; }
to_ms() { # a wrk latency (850.00us, 1.23ms, 2.01s, 1.00m) in ms
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}
server_alive() { kill -0 "$SERVER_PID" 2>/dev/null || die "the server is gone (see its log above)"; }
vm() { awk -v k="$1:" '$1 == k { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

FAILED=()
# wrk_start NAME LUA DURATION CONNECTIONS: runs wrk (exec'd, so $! of a background call is wrk's
# own pid), its output in $WORK/NAME.wrk; wrk_check NAME fails on non-2xx or socket errors
wrk_start() {
    (HDF_BENCH_LUA=$ROOT/tests/bench/lua HDF_BENCH_TOKEN=$TOKEN HDF_BENCH_T0=$T0 HDF_BENCH_T1=$T1 \
        HDF_BENCH_NCUST=$NCUST HDF_BENCH_TAG="$1-$RUN_TAG" HDF_BENCH_BODY=$BODY_HTML HDF_BENCH_CURSOR=$DEEP_CURSOR \
        HDF_BENCH_THREADS=$WRK_THREADS exec wrk -t "$WRK_THREADS" -c "$4" -d "$3s" --latency -s "tests/bench/lua/$2.lua" "$BASE" >"$WORK/$1.wrk" 2>&1)
}
wrk_check() {
    local out=$WORK/$1.wrk bad
    bad=$(sed -n 's/^bench: non-2xx responses: //p' "$out")
    if [[ "$bad" != 0 ]] || grep -q '^  Non-2xx' "$out" || grep -q '^  Socket errors' "$out"; then
        cat "$out" >&2
        echo "bench: FAILED: $1: non-2xx responses (${bad:-wrk gave no count}) or socket errors; see above and the server log" >&2
        return 1
    fi
}
wrk_run() {
    wrk_start "$@" || {
        cat "$WORK/$1.wrk" >&2
        echo "bench: FAILED: wrk exited non-zero in $1" >&2
        return 1
    }
    wrk_check "$1"
}
# pgbench_run NAME DURATION CLIENTS SCRIPT...: pgbench's output in $WORK/NAME.pgb; fails on any error
pgbench_run() {
    local name=$1 duration=$2 clients=$3 out=$WORK/$1.pgb
    shift 3
    local -a files=()
    for f in "$@"; do files+=(-f "$WORK/${f%@*}.pgbench${f#"${f%@*}"}"); done
    "${PGB[@]}" -c "$clients" -j "$PGBENCH_JOBS" -T "$duration" "${files[@]}" "${PGB_VARS[@]}" -D "tag=$name-$RUN_TAG" \
        hdf >"$out" 2>&1 || {
        cat "$out" >&2
        echo "bench: FAILED: pgbench $name exited non-zero" >&2
        return 1
    }
    if ! grep -q '^number of failed transactions: 0 ' "$out"; then
        cat "$out" >&2
        echo "bench: FAILED: pgbench $name had failed transactions" >&2
        return 1
    fi
}

ratio() { # A B: A/B as 0.83, or - when either is not a number
    if [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && (($2 > 0)); then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
    else
        echo -
    fi
}
declare -A API_RPS API_P50 API_P99 PGB_TPS RATIO RT_PER_REQ ST_PER_REQ POOL_TPS POOL_RATIO
run_scenario() {
    local s=$1 scripts
    if [[ $s == mixed ]]; then scripts=("${MIXED_WEIGHTS[@]}"); else scripts=("$s"); fi
    say "$s: wrk ${WARMUP}+${DURATION} s, then pgbench ${PGBENCH_WARMUP}+${DURATION} s, $CONNS connections"
    API_RPS[$s]=FAILED API_P50[$s]=- API_P99[$s]=- PGB_TPS[$s]=FAILED RATIO[$s]=- RT_PER_REQ[$s]=n/a ST_PER_REQ[$s]=n/a
    POOL_TPS[$s]=- POOL_RATIO[$s]=-
    local m0 m1
    if wrk_run "$s-warmup" "$s" "$WARMUP" "$CONNS" && m0=$(metrics) && wrk_run "$s" "$s" "$DURATION" "$CONNS" && m1=$(metrics); then
        API_RPS[$s]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/$s.wrk")
        API_P50[$s]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/$s.wrk")")
        API_P99[$s]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/$s.wrk")")
        read -r r0 rt0 st0 <<<"$m0"
        read -r r1 rt1 st1 <<<"$m1"
        RT_PER_REQ[$s]=$(per_request "$(counter_delta "$rt0" "$rt1")" $((r1 - r0)))
        ST_PER_REQ[$s]=$(per_request "$(counter_delta "$st0" "$st1")" $((r1 - r0)))
    else
        FAILED+=("$s (API)")
    fi
    if { ((PGBENCH_WARMUP == 0)) || pgbench_run "$s-warmup" "$PGBENCH_WARMUP" "$CONNS" "${scripts[@]}"; } &&
        pgbench_run "$s" "$DURATION" "$CONNS" "${scripts[@]}"; then
        PGB_TPS[$s]=$(awk '/^tps = / { printf "%.0f", $3 }' "$WORK/$s.pgb")
    else
        FAILED+=("$s (pgbench)")
    fi
    if ((POOL_RUN)); then
        if pgbench_run "$s-pool" "$((DURATION / 2))" "$DB_CONNS_TOTAL" "${scripts[@]}"; then
            POOL_TPS[$s]=$(awk '/^tps = / { printf "%.0f", $3 }' "$WORK/$s-pool.pgb")
        else
            POOL_TPS[$s]=FAILED
            FAILED+=("$s (pgbench at $DB_CONNS_TOTAL clients)")
        fi
    fi
    RATIO[$s]=$(ratio "${API_RPS[$s]}" "${PGB_TPS[$s]}")
    POOL_RATIO[$s]=$(ratio "${API_RPS[$s]}" "${POOL_TPS[$s]}")
    printf '    api %s req/s (p50 %s ms, p99 %s ms), pgbench %s tps, ratio %s; pgbench at %s clients %s tps; round trips/request %s\n' \
        "${API_RPS[$s]}" "${API_P50[$s]}" "${API_P99[$s]}" "${PGB_TPS[$s]}" "${RATIO[$s]}" "$DB_CONNS_TOTAL" "${POOL_TPS[$s]}" \
        "${RT_PER_REQ[$s]}"
}

MACHINE="$NCPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), \
$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), \
$("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), \
$(gcc --version | head -n 1)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $MACHINE; load average before: $LOAD_BEFORE"
say "Postgres settings: ${PG_SETTINGS[*]}"
say "server settings: ${SERVER_ENV[*]}"
say "pgbench: -M prepared -c $CONNS -j $PGBENCH_JOBS, PGOPTIONS=$PGOPTIONS; wrk: -t $WRK_THREADS -c $CONNS --latency"

for s in "${SCENARIOS[@]}"; do
    run_scenario "$s"
done
server_alive
RSS_AFTER=$(vm VmRSS)
HWM_AFTER=$(vm VmHWM)

# ---- what two features cost: 50 automation rules on create, rate limiting on get ----
# Each pair is measured A, B, A, B (alternating, so drift and noise fall on both alike) and the
# cost is 1 - mean(B) / mean(A). Rules (ticket.created, two conditions each): 50 that match no
# benchmark ticket (subject keywords), then 49 of them and one that matches every create. Rate limiting: the same server
# binary started a second time with every HDF_RATE_LIMIT_<CATEGORY>=off, measured on get.
COMPARE_DURATION=$DURATION
[[ $MODE == full ]] && COMPARE_DURATION=$((DURATION / 2))
compare_rps() { # NAME LUA: wrk for COMPARE_DURATION after a warm-up, req/s on stdout
    wrk_run "$1-warmup" "$2" "$WARMUP" "$CONNS" >&2 && wrk_run "$1" "$2" "$COMPARE_DURATION" "$CONNS" >&2 &&
        awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/$1.wrk"
}
cost_pct() { awk -v a1="$1" -v a2="$2" -v b1="$3" -v b2="$4" 'BEGIN { printf "%.1f", 100 * (1 - (b1 + b2) / (a1 + a2)) }'; }
RULE_IDS=()
say "automation: creating 51 ticket.created rules (disabled)"
for i in $(seq 1 51); do
    if ((i == 51)); then
        cond='{"field":"subject","op":"contains","value":"has not arrived"}' act='{"type":"add_tags","value":["delivery"]}'
    else
        cond="{\"field\":\"subject\",\"op\":\"contains\",\"value\":\"keyword-$i\"}" act="{\"type\":\"set_priority\",\"value\":\"high\"}"
    fi
    rule=$(api POST /v1/automations "{\"name\":\"bench rule $i\",\"position\":$i,\"enabled\":false,\"events\":[\"ticket.created\"],\"conditions\":{\"all\":[$cond,{\"field\":\"priority\",\"op\":\"ne\",\"value\":\"urgent\"}]},\"actions\":[$act]}")
    expect_status 201 "POST /v1/automations"
    RULE_IDS+=("$(json "(:'j'::json)->>'id'" "$rule")")
done
RULES_ON=()
for i in $(seq 0 50); do RULES_ON+=(false); done
rule_set() { # INDEX true|false
    [[ "${RULES_ON[$1]}" == "$2" ]] && return
    api PATCH "/v1/automations/${RULE_IDS[$1]}" "{\"enabled\":$2}" >/dev/null
    expect_status 200 "PATCH /v1/automations/${RULE_IDS[$1]}"
    RULES_ON[$1]=$2
}
rules_phase() { # none | nomatch (rules 1-50: none matches) | match (rules 2-51: the last matches every create)
    local i want
    for i in $(seq 0 50); do
        want=false
        [[ $1 == nomatch ]] && ((i < 50)) && want=true
        [[ $1 == match ]] && ((i > 0)) && want=true
        rule_set "$i" "$want"
    done
}
declare -A RULES_RPS
for round in 1 2; do
    for phase in none nomatch match; do
        rules_phase "$phase"
        say "create, rules: $phase, ${COMPARE_DURATION} s"
        rps=$(compare_rps "create-rules-$phase-$round" create) || { FAILED+=("create with rules $phase"); rps=0; }
        RULES_RPS[$phase$round]=$rps
    done
done
rules_phase none
COST_NOMATCH=$(cost_pct "${RULES_RPS[none1]}" "${RULES_RPS[none2]}" "${RULES_RPS[nomatch1]}" "${RULES_RPS[nomatch2]}")
COST_MATCH=$(cost_pct "${RULES_RPS[none1]}" "${RULES_RPS[none2]}" "${RULES_RPS[match1]}" "${RULES_RPS[match2]}")
LINE_RULES="POST /v1/tickets (alternating runs of ${COMPARE_DURATION} s): without rules ${RULES_RPS[none1]} and ${RULES_RPS[none2]} req/s; \
with 50 enabled ticket.created rules that match nothing ${RULES_RPS[nomatch1]} and ${RULES_RPS[nomatch2]} req/s (cost ${COST_NOMATCH}%); \
with 50 of which one matches every create and adds a tag (one more audit entry per ticket) ${RULES_RPS[match1]} and \
${RULES_RPS[match2]} req/s (cost ${COST_MATCH}%); target: at most 10%"
say "$LINE_RULES"

RL_PORT=$((HTTP_PORT + 1))
while port_in_use "$RL_PORT"; do RL_PORT=$((RL_PORT + 1)); done
RL_ENV=()
for v in "${SERVER_ENV[@]}"; do
    case $v in
    HDF_LISTEN=*) RL_ENV+=("HDF_LISTEN=127.0.0.1:$RL_PORT") ;;
    HDF_RATE_LIMIT_*) RL_ENV+=("${v%%=*}=off") ;;
    *) RL_ENV+=("$v") ;;
    esac
done
env "${RL_ENV[@]}" HDF_SECRET_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" setsid "$BIN" serve >"$WORK/server-nolimits.log" 2>&1 &
NOLIMIT_PID=$!
for _ in $(seq 1 300); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RL_PORT/readyz" 2>/dev/null)" == 200 ]] && break
    sleep 0.1
done
RL_RPS=()
MAIN_BASE=$BASE
for phase in on off on off; do
    if [[ $phase == on ]]; then BASE=$MAIN_BASE; else BASE=http://127.0.0.1:$RL_PORT; fi
    say "get with rate limiting $phase, ${COMPARE_DURATION} s"
    rps=$(compare_rps "get-rl$phase-${#RL_RPS[@]}" get) || { FAILED+=("get with rate limiting $phase"); rps=0; }
    RL_RPS+=("$rps")
done
BASE=$MAIN_BASE
kill "$NOLIMIT_PID" 2>/dev/null && wait "$NOLIMIT_PID" 2>/dev/null
NOLIMIT_PID=""
RL_COST=$(cost_pct "${RL_RPS[1]}" "${RL_RPS[3]}" "${RL_RPS[0]}" "${RL_RPS[2]}")
LINE_RL="GET /v1/tickets/{id} with rate limiting off ${RL_RPS[1]} and ${RL_RPS[3]} req/s, on (every category limited, none refusing) ${RL_RPS[0]} and ${RL_RPS[2]} req/s (alternating runs of ${COMPARE_DURATION} s): rate limiting costs ${RL_COST}% (target: at most 5%)"
say "$LINE_RL"

# ---- latency below saturation: at 64 closed-loop connections latency is queueing (Little's law:
# mean latency = connections / throughput); at the server's pool size it is the request's own ----
LAT_CONNS=$DB_CONNS_TOTAL
LAT_PARTS=()
for s in get patch; do
    if wrk_run "$s-lat-warmup" "$s" "$WARMUP" "$LAT_CONNS" && wrk_run "$s-lat" "$s" "$COMPARE_DURATION" "$LAT_CONNS"; then
        LAT_PARTS+=("$s $(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/$s-lat.wrk") req/s, p50 $(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/$s-lat.wrk")") ms, p99 $(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/$s-lat.wrk")") ms")
    else
        FAILED+=("$s at $LAT_CONNS connections")
    fi
done
LINE_LAT="At $LAT_CONNS connections (the server's database connections; ${COMPARE_DURATION} s): $(IFS=';'; echo "${LAT_PARTS[*]}" | sed 's/;/; /g')"
say "$LINE_LAT"

# ---- 1,000 open connections: GETs, while a plain curl asks /v1/me ----
say "$CONNS_1K connections: wrk on get for $DURATION_1K s"
wrk_start get-1k get "$DURATION_1K" "$CONNS_1K" &
BG_PID=$!
sleep $((DURATION_1K / 2))
RSS_1K_DURING=$(vm VmRSS)
FDS_1K=$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
ME_1K=$(curl -sS -o /dev/null -m 10 -w '%{http_code} %{time_total}' "${AUTH[@]}" "$BASE/v1/me" || echo "000 10")
OK_1K=1
wait "$BG_PID" && wrk_check get-1k || OK_1K=0
BG_PID=""
server_alive
RSS_1K_AFTER=$(vm VmRSS)
HWM_1K_AFTER=$(vm VmHWM)
read -r me_status me_seconds <<<"$ME_1K"
ME_MS=$(awk -v s="$me_seconds" 'BEGIN { printf "%.1f", s * 1000 }')
if ((OK_1K)); then
    RPS_1K=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/get-1k.wrk")
    P99_1K=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/get-1k.wrk")")
else
    RPS_1K=FAILED P99_1K=-
    FAILED+=("$CONNS_1K connections")
fi
[[ "$me_status" == 200 ]] || FAILED+=("/v1/me during $CONNS_1K connections answered $me_status")
LINE_1K="1,000 connections (GET /v1/tickets/{id}, $DURATION_1K s): $RPS_1K req/s, p99 $P99_1K ms; \
server RSS $RSS_1K_DURING during (open fds $FDS_1K), $RSS_1K_AFTER after (peak $HWM_1K_AFTER); \
GET /v1/me during the run: $me_status in $ME_MS ms"

# ---- report ----
report() {
    echo "| scenario | api req/s | pgbench tps | ratio | p50 | p99 |"
    echo "|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}"; do
        echo "| $s | ${API_RPS[$s]} | ${PGB_TPS[$s]} | ${RATIO[$s]} | ${API_P50[$s]} ms | ${API_P99[$s]} ms |"
    done
    echo
    echo "Server RSS after the runs: $RSS_AFTER (peak $HWM_AFTER)."
    echo
    echo "$LINE_1K."
    echo
    echo "$LINE_RULES."
    echo
    echo "$LINE_RL."
    echo
    echo "$LINE_LAT."
    echo
    echo "| scenario | server round trips/request | server statements/request | pgbench round trips/transaction | pgbench statements/transaction | pgbench tps at $DB_CONNS_TOTAL clients | api/that |"
    echo "|---|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}"; do
        echo "| $s | ${RT_PER_REQ[$s]} | ${ST_PER_REQ[$s]} | ${TRIP_COUNT[$s]} | ${STMT_COUNT[$s]} | ${POOL_TPS[$s]} | ${POOL_RATIO[$s]} |"
    done
}
code_list() { # A B C -> `A`, `B`, `C`
    local out="" x
    for x in "$@"; do out+="${out:+, }\`$x\`"; done
    echo "$out"
}
details() {
    echo "Statements per transaction in the pgbench scripts (tests/bench/bench_sql.c, names from"
    echo "server/src/db/statements.c):"
    echo
    for s in "${SCENARIOS[@]}"; do
        echo "- \`$s\`: ${STMT_LIST[$s]}"
    done
    echo
    echo "Machine: $MACHINE; load average before the run $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "Data: $SEED_FACTS."
    echo
    echo "Postgres: $(code_list "${PG_SETTINGS[@]}"); unix socket for server and pgbench alike."
    echo
    echo "Server: $(code_list "${SERVER_ENV[@]}") (the rate limits so high that no limiter refuses)."
    echo
    echo "Load: wrk \`-t $WRK_THREADS -c $CONNS --latency\` and pgbench \`-n -M prepared -c $CONNS -j $PGBENCH_JOBS\` with"
    echo "\`PGOPTIONS='$PGOPTIONS'\`, each ${DURATION} s, wrk after a ${WARMUP} s warm-up, pgbench after $(
        ((PGBENCH_WARMUP > 0)) && echo "a ${PGBENCH_WARMUP} s warm-up" || echo "its one-transaction check only"
    ); p50 and p99 are wrk's, in ms."
    if ((POOL_RUN)); then
        echo "\"pgbench tps at $DB_CONNS_TOTAL clients\": the same scripts for $((DURATION / 2)) s with as many clients as the server"
        echo "has database connections (\`HDF_THREADS\` × \`HDF_DB_CONNS_PER_THREAD\`): Postgres's rate at the concurrency"
        echo "the server gives it."
    else
        echo "Quick mode skips the pgbench run at the server's pool size (\"-\" above)."
    fi
}

TABLE=$(report)
DETAILS=$(details)
ELAPSED=$(($(date +%s) - STARTED_AT))
echo
echo "$TABLE"
echo
echo "$DETAILS"
echo
echo "mode: $MODE; took $((ELAPSED / 60)) min $((ELAPSED % 60)) s"

if ((${#FAILED[@]} > 0)); then
    printf 'bench: FAILED: %s\n' "${FAILED[@]}" >&2
    echo "bench: docs/benchmarks.md left as it was" >&2
    exit 1
fi

# ---- docs/benchmarks.md: the section between the markers is this run's ----
{
    echo "<!-- bench:begin: written by tests/bench/run.sh; edit outside these markers -->"
    echo "## API against Postgres: latest run"
    echo
    echo "\`tests/bench/run.sh$([[ $MODE == quick ]] && echo ' --quick')\` on $(date -u '+%Y-%m-%d %H:%M UTC'), at \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)'), $MODE mode, $((ELAPSED / 60)) min $((ELAPSED % 60)) s."
    echo
    echo "$TABLE"
    echo
    echo "$DETAILS"
    echo "<!-- bench:end -->"
} >"$WORK/section.md"
if grep -q '^<!-- bench:begin' "$DOC" && grep -q '^<!-- bench:end -->' "$DOC"; then
    awk -v section="$WORK/section.md" '
        /^<!-- bench:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
        /^<!-- bench:end -->/ { skip = 0; next }
        !skip { print }' "$DOC" >"$WORK/doc.md"
else # first run: after the title
    awk -v section="$WORK/section.md" '
        { print }
        NR == 1 { print ""; while ((getline line < section) > 0) print line }' "$DOC" >"$WORK/doc.md"
fi
cat "$WORK/doc.md" >"$DOC"
say "wrote the results into docs/benchmarks.md"
