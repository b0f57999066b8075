# PgBouncer helpers for scripts/pgbouncer.sh and scripts/failover.sh (sourced, not run): a PgBouncer of the
# caller's own, in transaction mode, with its config, log and pid file in a directory the caller owns.

# bouncer_install: Debian's pgbouncer, if the machine lacks it; prints its version.
bouncer_install() {
  if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
    echo "== installing pgbouncer (Debian's package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  fi
  PGBOUNCER_BIN="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
  "$PGBOUNCER_BIN" --version | head -n 1
}

# bouncer_config DIR LISTEN_PORT DATABASE SERVER_PORT POOL_SIZE: writes DIR/pgbouncer.ini (transaction mode,
# trust on the loopback, the database on 127.0.0.1:SERVER_PORT, POOL_SIZE server sessions).
bouncer_config() {
  local dir="$1" port="$2" db="$3" server_port="$4" size="$5"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
$db = host=127.0.0.1 port=$server_port dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = $size
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
  echo '"postgres" ""' >"$dir/users.txt"
}

# bouncer_start DIR PORT: starts it as a daemon (as postgres when run as root: PgBouncer will not run as root) and
# waits until it answers.
bouncer_start() {
  local dir="$1" port="$2"
  if pg_isready -h 127.0.0.1 -p "$port" -q; then
    echo "something already answers on 127.0.0.1:$port (an earlier PgBouncer?): not starting another" >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$dir"
    "$PGBOUNCER_BIN" -d -u postgres "$dir/pgbouncer.ini"
  else
    "$PGBOUNCER_BIN" -d "$dir/pgbouncer.ini"
  fi
  for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p "$port" -q && break; sleep 0.1; done
  pg_isready -h 127.0.0.1 -p "$port"
}

# bouncer_admin PORT SQL: a command on PgBouncer's admin console (SHOW STATS, RELOAD, …).
bouncer_admin() {
  psql -w "postgres://postgres@127.0.0.1:$1/pgbouncer" -Atc "$2"
}

# bouncer_stop DIR
bouncer_stop() {
  if [ -f "$1/pgbouncer.pid" ]; then kill "$(cat "$1/pgbouncer.pid")" 2>/dev/null || true; fi
}
