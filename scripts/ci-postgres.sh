#!/usr/bin/env bash
# Run the whole test suite (`make test`) against a throw-away PostgreSQL database.
#
# - Installs the Debian `postgresql` package when no server is installed (as root).
# - Uses the first Debian cluster (pg_lsclusters), starting it when it is down; when no cluster
#   exists, initdb's a throw-away one in a temporary folder on a free port.
#   ZHIFA_CI_PG=initdb forces the throw-away cluster even when a Debian cluster exists.
# - Creates a throw-away role and database, sets ZHIFA_TEST_DATABASE_URL, runs `make test`, then
#   drops both (and stops whatever this script started). Exits with the suite's status.
set -euo pipefail
cd "$(dirname "$0")/.."

name="zhifa_ci_$(date +%s)_$$"
password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
socket_dir=/var/run/postgresql
port=""
tmp_cluster=""
started_cluster=""

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -n -u postgres "$@")
  fi
}

psql_admin() {
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -d postgres "$@"
}

pg_bin() {
  find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

ensure_installed() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/postgres" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends postgresql
}

use_debian_cluster() { # first cluster from pg_lsclusters; start it when down
  local line version cluster status
  line=$(pg_lsclusters -h 2>/dev/null | head -n 1 || true)
  [ -n "$line" ] || return 1
  read -r version cluster port status _ <<<"$line"
  if [ "$status" != "online" ]; then
    echo "starting PostgreSQL cluster $version/$cluster"
    pg_ctlcluster "$version" "$cluster" start || return 1
    started_cluster="$version $cluster"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_tmp_cluster() { # initdb a throw-away cluster owned by postgres in a temporary folder
  local bin
  bin=$(pg_bin)
  tmp_cluster=$(mktemp -d /tmp/zhifa-pg.XXXXXX)
  chown postgres: "$tmp_cluster"
  chmod 700 "$tmp_cluster"
  port=$(free_port)
  socket_dir=$tmp_cluster
  echo "starting a throw-away PostgreSQL cluster in $tmp_cluster on port $port"
  as_postgres "$bin/initdb" -D "$tmp_cluster/data" -U postgres -E UTF8 --no-locale \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  as_postgres "$bin/pg_ctl" -D "$tmp_cluster/data" -l "$tmp_cluster/server.log" -w \
    -o "-p $port -k $tmp_cluster -c listen_addresses=127.0.0.1" start >/dev/null
}

cleanup() {
  set +e
  if [ -n "$port" ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "DROP ROLE IF EXISTS $name"
  fi
  if [ -n "$tmp_cluster" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$tmp_cluster/data" -m fast -w stop >/dev/null
    rm -rf "$tmp_cluster"
  fi
  if [ -n "$started_cluster" ]; then
    # shellcheck disable=SC2086
    pg_ctlcluster $started_cluster stop
  fi
}
trap cleanup EXIT

ensure_installed
if [ "${ZHIFA_CI_PG:-}" = initdb ] || ! use_debian_cluster; then
  start_tmp_cluster
fi
psql_admin -c "CREATE ROLE $name LOGIN PASSWORD '$password'" -c "CREATE DATABASE $name OWNER $name"
echo "throw-away database $name on 127.0.0.1:$port"

export ZHIFA_TEST_DATABASE_URL="postgresql+psycopg://$name:$password@127.0.0.1:$port/$name"
make test
