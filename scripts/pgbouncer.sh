#!/usr/bin/env bash
# The service through PgBouncer in transaction mode (issue #16): a PgBouncer of this run's own (its own config,
# port and log in a temporary directory) in front of the PostgreSQL at 127.0.0.1:5432, `pool_mode = transaction`
# and fewer server sessions than the service's pool, so consecutive transactions of one service connection land on
# different server sessions. The load generator's mix (credits, batches of credits, the payment chain to paid, tax
# deposits, reads, replays) runs through it with its book checks (every acknowledged posting exactly once, every
# chain verifying, `kasdesa verify-chain` through the pooler too), with `KASDESA_DATABASE_POOLED=true`
# (docs/scaling.md). Installs Debian's pgbouncer if the machine lacks it. Exits non-zero if anything fails.
#
#   scripts/pgbouncer.sh                  # 6 villages, 8 clients, 4 s (the CI's short mode)
#   KASDESA_SMOKE_DURATION=30 scripts/pgbouncer.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${KASDESA_CI_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${KASDESA_CI_PGBOUNCER_PORT:-6439}"
DURATION="${KASDESA_SMOKE_DURATION:-4}"

. scripts/lib/pgbouncer.sh
bouncer_install

echo "== pgbouncer: building"
cargo build --quiet --bins

dir="$(mktemp -d /tmp/kasdesa-pgbouncer.XXXXXX)"
db="kasdesa_smoke_bouncer_$$"
cleanup() {
  bouncer_stop "$dir"
  sleep 0.5
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
psql "$PG_URL" -qc "CREATE DATABASE $db"

# Three server sessions against the service's pool of 16: the service's connections share them, each transaction
# taking whichever is free. server_reset_query is not run in transaction mode (PgBouncer's rule), so a setting left
# on a session would reach the next client: the service leaves none.
bouncer_config "$dir" "$PORT" "$db" 5432 3
bouncer_start "$dir" "$PORT"

echo "== load through PgBouncer (transaction mode, 3 server sessions)"
KASDESA_DATABASE_POOLED="${KASDESA_SMOKE_POOLED:-true}" timeout 180 target/debug/kasdesa-load --spawn --villages 6 --clients 8 \
  --duration "$DURATION" --setup-concurrency 4 --mix credit=35,payment=25,tax=5,read=25,batch=10 --max-errors 0 \
  --label smoke-pgbouncer \
  --database-url "postgres://postgres@127.0.0.1:$PORT/$db"

# PgBouncer's own count of what it carried, so the run shows the pooler was in the path.
echo "== pgbouncer's counters for $db"
bouncer_admin "$PORT" "SHOW STATS" 2>/dev/null | grep "^$db|" | \
  awk -F'|' '{print "transactions " $2 ", queries " $3}' || true
echo "== load through PgBouncer passed"
