#!/usr/bin/env bash
# The production shape on one machine (issue 14): etcd, three PostgreSQL nodes under Patroni (leader,
# synchronous standby, asynchronous replica), HAProxy (database writes/reads, app servers) and three
# 'cnvisa serve' instances. Ports and directories: scripts/cluster/cluster.conf.
#
#   scripts/cluster.sh up       install what is missing, start everything, migrate once through the write port
#   scripts/cluster.sh status   each part's role and health
#   scripts/cluster.sh down     stop everything this script started (data kept; 'down --purge' removes it)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=cluster/cluster.conf
source "$HERE/cluster/cluster.conf"

read -r -a NODES <<<"$PG_NODES"
read -r -a PGPORTS <<<"$PG_PORTS"
read -r -a RESTPORTS <<<"$PATRONI_PORTS"
read -r -a APPPORTS <<<"$APP_PORTS"

RUN="$CLUSTER_DIR/run"
LOG="$CLUSTER_DIR/log"
VENV="$CLUSTER_DIR/venv"
WRITE_URL="postgresql+asyncpg://$DB_USER:$DB_PASSWORD@127.0.0.1:$HAPROXY_WRITE_PORT/$DB_NAME"
READ_URL="postgresql+asyncpg://$DB_USER:$DB_PASSWORD@127.0.0.1:$HAPROXY_READ_PORT/$DB_NAME"  # lag-tolerant reads

say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local t=$1 what=$2; shift 2
    local end=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out after ${t}s waiting for $what"
        sleep 0.5
    done
}

# ------------------------------------------------------------------------------------------------ install
install() {
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v haproxy >/dev/null || missing+=(haproxy)
    command -v envsubst >/dev/null || missing+=(gettext-base)
    [[ -x "$PG_BIN/postgres" ]] || missing+=(postgresql-15)
    command -v psql >/dev/null || missing+=(postgresql-client-15)
    if ((${#missing[@]})); then
        say "installing ${missing[*]} (apt)"
        apt-get install -y --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1 ||
            { apt-get update >>"$LOG/apt.log" 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG/apt.log" 2>&1; } ||
            die "apt-get install failed: $LOG/apt.log"
    fi
    # Patroni in its own venv: it is the cluster's tool, not a dependency of cnvisa.
    if ! "$VENV/bin/patroni" --version 2>/dev/null | grep -q "$PATRONI_VERSION"; then
        say "installing Patroni $PATRONI_VERSION into $VENV"
        "$PATRONI_PYTHON" -m venv "$VENV"  # a system Python: the postgres user must be able to run it
        "$VENV/bin/pip" install --quiet "patroni[etcd3,psycopg3]==$PATRONI_VERSION" >"$LOG/pip.log" 2>&1 ||
            die "pip install patroni failed: $LOG/pip.log"
    fi
}

# ------------------------------------------------------------------------------------------------ render
render_patroni() { # node index
    local i=$1
    NODE=${NODES[$i]} PG_PORT=${PGPORTS[$i]} REST_PORT=${RESTPORTS[$i]} \
        CLUSTER_DIR=$CLUSTER_DIR CLUSTER_SCOPE=$CLUSTER_SCOPE ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT PG_BIN=$PG_BIN \
        PG_SUPERUSER_PASSWORD=$PG_SUPERUSER_PASSWORD PG_REPLICATION_PASSWORD=$PG_REPLICATION_PASSWORD \
        PG_REWIND_PASSWORD=$PG_REWIND_PASSWORD \
        envsubst <"$ROOT/deploy/patroni/patroni.yml.tmpl" >"$CLUSTER_DIR/conf/${NODES[$i]}.yml"
}

render_haproxy() {
    local w="" r="" a="" i
    for i in "${!NODES[@]}"; do
        w+="    server ${NODES[$i]} 127.0.0.1:${PGPORTS[$i]} maxconn 200 check port ${RESTPORTS[$i]}"$'\n'
        r+="    server ${NODES[$i]} 127.0.0.1:${PGPORTS[$i]} maxconn 200 check port ${RESTPORTS[$i]}"$'\n'
    done
    for i in "${!APPPORTS[@]}"; do
        a+="    server app$((i + 1)) 127.0.0.1:${APPPORTS[$i]} check"$'\n'
    done
    PG_SERVERS_WRITE=$w PG_SERVERS_READ=$r APP_SERVERS=$a CLUSTER_DIR=$CLUSTER_DIR \
        HAPROXY_WRITE_PORT=$HAPROXY_WRITE_PORT HAPROXY_READ_PORT=$HAPROXY_READ_PORT \
        HAPROXY_APP_PORT=$HAPROXY_APP_PORT HAPROXY_STATS_PORT=$HAPROXY_STATS_PORT \
        envsubst '${CLUSTER_DIR} ${HAPROXY_WRITE_PORT} ${HAPROXY_READ_PORT} ${HAPROXY_APP_PORT} ${HAPROXY_STATS_PORT} ${PG_SERVERS_WRITE} ${PG_SERVERS_READ} ${APP_SERVERS}' \
        <"$ROOT/deploy/haproxy/haproxy.cfg.tmpl" >"$CLUSTER_DIR/conf/haproxy.cfg"
}

# ------------------------------------------------------------------------------------------------ parts
start_etcd() {
    if alive "$RUN/etcd.pid"; then say "etcd already running"; return; fi
    say "starting etcd on 127.0.0.1:$ETCD_CLIENT_PORT"
    nohup etcd --name etcd1 --data-dir "$CLUSTER_DIR/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "etcd1=http://127.0.0.1:$ETCD_PEER_PORT" \
        >"$LOG/etcd.log" 2>&1 </dev/null &
    echo $! >"$RUN/etcd.pid"
    wait_for 30 etcd curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

any_sync() {
    local p
    for p in "${RESTPORTS[@]}"; do curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$p/sync" && return 0; done
    return 1
}

any_leader() {
    local p
    for p in "${RESTPORTS[@]}"; do curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$p/primary" && return 0; done
    return 1
}

start_patroni() {
    local i fresh=1
    for n in "${NODES[@]}"; do [[ -f "$CLUSTER_DIR/data/$n/PG_VERSION" ]] && fresh=0; done
    for i in "${!NODES[@]}"; do
        local n=${NODES[$i]}
        if alive "$RUN/patroni-$n.pid"; then say "patroni $n already running"; continue; fi
        render_patroni "$i"
        mkdir -p "$LOG/$n" "$RUN/$n" "$CLUSTER_DIR/data" "$CLUSTER_DIR/archive" "$CLUSTER_DIR/backup"
        chown -R "$PG_OS_USER:" "$LOG/$n" "$RUN/$n" "$CLUSTER_DIR/data" "$CLUSTER_DIR/archive" "$CLUSTER_DIR/backup"
        chown "$PG_OS_USER:" "$RUN"
        chmod 700 "$CLUSTER_DIR/data"
        say "starting Patroni $n (PostgreSQL 127.0.0.1:${PGPORTS[$i]}, REST 127.0.0.1:${RESTPORTS[$i]})"
        # runuser stays the parent: record patroni's own pid, so 'down' signals Patroni itself
        runuser -u "$PG_OS_USER" -- bash -c 'echo $$ > "$1"; exec "$2" "$3" >>"$4" 2>&1 </dev/null' _ \
            "$RUN/patroni-$n.pid" "$VENV/bin/patroni" "$CLUSTER_DIR/conf/$n.yml" "$LOG/$n/patroni.out" >/dev/null 2>&1 </dev/null &
        sleep 1
        alive "$RUN/patroni-$n.pid" || die "Patroni $n exited: $LOG/$n/patroni.out"
        if ((i == 0 && fresh)); then # a new cluster: the first node bootstraps, the others clone from it
            wait_for 90 "a Patroni leader" any_leader
        fi
    done
    # a cluster started again: the node with the most WAL (the last leader) takes the lead, whichever it is, so
    # every node is started before one is waited for
    wait_for 90 "a Patroni leader" any_leader
    for i in "${!NODES[@]}"; do
        wait_for 120 "PostgreSQL ${NODES[$i]} running" \
            bash -c "curl -fsS http://127.0.0.1:${RESTPORTS[$i]}/health"
    done
    wait_for 60 "a synchronous standby" any_sync
}

start_haproxy() {
    render_haproxy
    haproxy -c -q -f "$CLUSTER_DIR/conf/haproxy.cfg" || die "haproxy config invalid"
    if alive "$RUN/haproxy.pid"; then
        say "reloading HAProxy"
        haproxy -D -f "$CLUSTER_DIR/conf/haproxy.cfg" -p "$RUN/haproxy.pid" -sf "$(cat "$RUN/haproxy.pid")" >>"$LOG/haproxy.log" 2>&1
    else
        say "starting HAProxy (db write :$HAPROXY_WRITE_PORT, read :$HAPROXY_READ_PORT, app :$HAPROXY_APP_PORT, stats :$HAPROXY_STATS_PORT)"
        haproxy -D -f "$CLUSTER_DIR/conf/haproxy.cfg" -p "$RUN/haproxy.pid" >>"$LOG/haproxy.log" 2>&1
    fi
    wait_for 20 "the write port" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$HAPROXY_WRITE_PORT"
}

psql_write() { # SQL as the superuser through the write port
    PGPASSWORD=$PG_SUPERUSER_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$HAPROXY_WRITE_PORT" -U postgres -d postgres "$@"
}

write_port_on_leader() { # HAProxy counts a server up until its first health check fails: ask PostgreSQL
    [[ "$(psql_write -tAc "select pg_is_in_recovery()" 2>/dev/null)" == f ]]
}

create_database() {
    wait_for 30 "SQL through the write port" psql_write -tAc "select 1"
    wait_for 30 "the write port to reach the leader" write_port_on_leader
    if [[ "$(psql_write -tAc "select 1 from pg_roles where rolname='$DB_USER'")" != 1 ]]; then
        say "creating role $DB_USER and database $DB_NAME"
        psql_write -c "create role \"$DB_USER\" login password '$DB_PASSWORD'"
    fi
    if [[ "$(psql_write -tAc "select 1 from pg_database where datname='$DB_NAME'")" != 1 ]]; then
        psql_write -c "create database \"$DB_NAME\" owner \"$DB_USER\""
    fi
}

cnvisa() { # the project's command, with the cluster's environment
    env ${APP_SRC:+PYTHONPATH=$APP_SRC} CNVISA_SECRET="$CNVISA_SECRET_VALUE" "$CNVISA_BIN" "$@"
}

migrate() {
    say "migrating once through the write port"
    cnvisa db upgrade --database-url "$WRITE_URL" >"$LOG/migrate.log" 2>&1 || die "migration failed: $LOG/migrate.log"
    if [[ "$CLUSTER_DEMO" == 1 ]]; then
        say "demo sign-ins (cnvisa demo setup --cases 0)"
        cnvisa demo setup --cases 0 --database-url "$WRITE_URL" >"$LOG/demo.log" 2>&1 || die "demo setup failed: $LOG/demo.log"
    fi
}

start_apps() {
    local i
    for i in "${!APPPORTS[@]}"; do
        local p=${APPPORTS[$i]}
        if alive "$RUN/app$((i + 1)).pid"; then say "app$((i + 1)) already running"; continue; fi
        say "starting cnvisa serve app$((i + 1)) on 127.0.0.1:$p"
        # setsid: its own process group, so 'down' ends uvicorn and its children together
        env CNVISA_DATABASE_URL="$WRITE_URL" CNVISA_REPLICA_URL="$READ_URL" ${APP_SRC:+PYTHONPATH=$APP_SRC} CNVISA_SECRET="$CNVISA_SECRET_VALUE" \
            setsid "$CNVISA_BIN" serve --host 127.0.0.1 --port "$p" --forwarded-allow-ips 127.0.0.1 \
            >"$LOG/app$((i + 1)).log" 2>&1 </dev/null &
        echo $! >"$RUN/app$((i + 1)).pid"
    done
    for p in "${APPPORTS[@]}"; do
        wait_for 60 "app on :$p" curl -fsS "http://127.0.0.1:$p/readyz"
    done
    wait_for 20 "the app frontend" curl -fsS "http://127.0.0.1:$HAPROXY_APP_PORT/readyz"
}

start_workers() {
    local i
    for ((i = 1; i <= WORKERS; i++)); do
        if alive "$RUN/worker$i.pid"; then say "worker$i already running"; continue; fi
        say "starting cnvisa worker$i (restarted 2 s after it exits, e.g. when a failover cut its connection)"
        env CNVISA_DATABASE_URL="$WRITE_URL" ${APP_SRC:+PYTHONPATH=$APP_SRC} CNVISA_SECRET="$CNVISA_SECRET_VALUE" \
            setsid bash -c 'while true; do "$1" worker; echo "worker exited: $?; again in 2 s"; sleep 2; done' _ \
            "$CNVISA_BIN" >>"$LOG/worker$i.log" 2>&1 </dev/null &
        echo $! >"$RUN/worker$i.pid"
    done
    wait_for 60 "the job workers on the queue" workers_connected
}

workers_connected() { # each worker holds a connection named 'cnvisa worker' (docs/operations.md)
    ((WORKERS == 0)) && return 0
    local n
    n=$(psql_write -d "$DB_NAME" -tAc "select count(distinct pid) from pg_stat_activity where application_name = 'cnvisa worker'" 2>/dev/null)
    [[ -n $n ]] && ((n >= WORKERS))
}

up() {
    [[ $EUID == 0 ]] || die "run as root (it installs packages and runs PostgreSQL as $PG_OS_USER)"
    mkdir -p "$CLUSTER_DIR"/{run,log,conf}
    install
    start_etcd
    start_patroni
    start_haproxy
    create_database
    migrate
    start_apps
    start_workers
    say "up. app: http://127.0.0.1:$HAPROXY_APP_PORT/  db write :$HAPROXY_WRITE_PORT  read :$HAPROXY_READ_PORT  stats http://127.0.0.1:$HAPROXY_STATS_PORT/"
    status
}

# ------------------------------------------------------------------------------------------------ down
stop_pidfile() { # name pidfile [group]
    local name=$1 f=$2 group=${3:-}
    alive "$f" || { rm -f "$f"; return 0; }
    local pid; pid=$(cat "$f")
    say "stopping $name (pid $pid)"
    if [[ -n $group ]]; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"; else kill -TERM "$pid"; fi
    local end=$((SECONDS + 40))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.3; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name did not stop in 40 s: SIGKILL"
        if [[ -n $group ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

down() {
    local i
    for f in "$RUN"/worker*.pid; do [[ -e $f ]] && stop_pidfile "$(basename "$f" .pid)" "$f" group; done
    for i in "${!APPPORTS[@]}"; do stop_pidfile "app$((i + 1))" "$RUN/app$((i + 1)).pid" group; done
    stop_pidfile haproxy "$RUN/haproxy.pid"
    # replicas first, the leader last (no failover storms while stopping)
    local leader=""
    for i in "${!NODES[@]}"; do
        curl -fsS -o /dev/null "http://127.0.0.1:${RESTPORTS[$i]}/primary" 2>/dev/null && leader=${NODES[$i]}
    done
    for n in "${NODES[@]}"; do [[ $n == "$leader" ]] || stop_pidfile "patroni $n" "$RUN/patroni-$n.pid"; done
    [[ -z $leader ]] || stop_pidfile "patroni $leader" "$RUN/patroni-$leader.pid"
    # a PostgreSQL left behind by a killed Patroni (drills) is stopped by its own pid file
    for n in "${NODES[@]}"; do
        local pm="$CLUSTER_DIR/data/$n/postmaster.pid"
        if [[ -f $pm ]] && kill -0 "$(head -1 "$pm")" 2>/dev/null; then
            say "stopping orphaned PostgreSQL $n"
            as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data/$n" stop -m fast -w >/dev/null 2>&1 || kill -KILL "$(head -1 "$pm")"
        fi
    done
    stop_pidfile etcd "$RUN/etcd.pid"
    if [[ ${1:-} == --purge ]]; then
        say "removing $CLUSTER_DIR/{data,etcd,run,conf,archive,backup} (the Patroni venv and logs are kept)"
        rm -rf "${CLUSTER_DIR:?}"/{data,etcd,run,conf,archive,backup}
    fi
    local left
    left=$(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E ":($ETCD_CLIENT_PORT|$ETCD_PEER_PORT|${PG_PORTS// /|}|${PATRONI_PORTS// /|}|$HAPROXY_WRITE_PORT|$HAPROXY_READ_PORT|$HAPROXY_APP_PORT|$HAPROXY_STATS_PORT|${APP_PORTS// /|})\$" || true)
    if [[ -n $left ]]; then say "still listening: $left"; return 1; fi
    say "down: no cluster port is listening"
}

# ------------------------------------------------------------------------------------------------ status
status() {
    local i
    printf '%-10s %-28s %s\n' PART ADDRESS "ROLE / HEALTH"
    if curl -fsS -m 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" >/dev/null 2>&1; then
        printf '%-10s %-28s %s\n' etcd "127.0.0.1:$ETCD_CLIENT_PORT" "healthy"
    else
        printf '%-10s %-28s %s\n' etcd "127.0.0.1:$ETCD_CLIENT_PORT" "DOWN"
    fi
    for i in "${!NODES[@]}"; do
        local j role state lag
        if j=$(curl -sS -m 2 "http://127.0.0.1:${RESTPORTS[$i]}/patroni" 2>/dev/null) && [[ -n $j ]]; then
            read -r role state lag < <(python3 -c '
import json,sys
d=json.loads(sys.argv[1]); r=d.get("role","?"); x=d.get("replication_state") or ""
sync=[s for s in d.get("replication",[]) ]
print(r, d.get("state","?"), d.get("xlog",{}).get("replayed_location", d.get("xlog",{}).get("location","-")))' "$j")
            local kind=$role
            if [[ $role == replica ]]; then
                if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:${RESTPORTS[$i]}/sync" 2>/dev/null; then kind="sync standby"; else kind="async replica"; fi
            elif [[ $role == primary || $role == master ]]; then kind=leader; fi
            printf '%-10s %-28s %s\n' "${NODES[$i]}" "pg :${PGPORTS[$i]} rest :${RESTPORTS[$i]}" "$kind, $state, wal $lag"
        else
            printf '%-10s %-28s %s\n' "${NODES[$i]}" "pg :${PGPORTS[$i]} rest :${RESTPORTS[$i]}" "DOWN (Patroni not answering)"
        fi
    done
    if alive "$RUN/haproxy.pid"; then
        local csv
        csv=$(curl -fsS -m 2 "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" 2>/dev/null || true)
        for be in pg_write pg_read app_servers; do
            local ups
            ups=$(awk -F, -v b="$be" '$1==b && $2!="BACKEND" && $2!="FRONTEND" {printf "%s=%s ", $2, $18}' <<<"$csv")
            printf '%-10s %-28s %s\n' haproxy "$be" "${ups:-?}"
        done
    else
        printf '%-10s %-28s %s\n' haproxy "-" "DOWN"
    fi
    for i in "${!APPPORTS[@]}"; do
        local code
        code=$(curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${APPPORTS[$i]}/readyz" 2>/dev/null || true)
        printf '%-10s %-28s %s\n' "app$((i + 1))" "127.0.0.1:${APPPORTS[$i]}" "$([[ $code == 200 ]] && echo "healthy (200)" || echo "DOWN (${code:-no answer})")"
    done
    local conns
    conns=$(psql_write -d "$DB_NAME" -tAc "select count(distinct pid) from pg_stat_activity where application_name = 'cnvisa worker'" 2>/dev/null || echo "?")
    for ((i = 1; i <= WORKERS; i++)); do
        printf '%-10s %-28s %s\n' "worker$i" "cnvisa worker" "$(alive "$RUN/worker$i.pid" && echo running || echo DOWN); queue connections of all workers: ${conns:-?}"
    done
}

case "${1:-}" in
    up) up ;;
    down) shift; down "${1:-}" ;;
    status) status ;;
    *) echo "usage: $0 up|down [--purge]|status" >&2; exit 2 ;;
esac
