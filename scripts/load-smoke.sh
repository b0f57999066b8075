#!/usr/bin/env bash
# A few seconds of load with the full book checks, on SQLite and (if reachable) on PostgreSQL: the CI guard that
# the load generator, the whole payment chain under concurrency and the invariants it checks keep working.
# Exits non-zero if any run fails. Takes well under a minute on 2 cores once built.
#
#   scripts/load-smoke.sh                       # SQLite, then PostgreSQL at 127.0.0.1:5432 if it answers
#   KASDESA_SMOKE_REQUIRE_PG=1 scripts/load-smoke.sh   # fail instead of skipping when PostgreSQL is down
#   KASDESA_CI_PG_URL=postgres://user@host:5432/postgres scripts/load-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${KASDESA_CI_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PROFILE_DIR=target/debug

echo "== load smoke: building"
cargo build --quiet --bins

# Small on purpose: 6 villages (24 officials: setup hashes passwords), 8 clients, 4 seconds, the realistic mix
# (credits, full payment chains, tax deposits, reads), 10% of bank POSTs replayed. No error is tolerated.
ARGS=(--spawn --villages 6 --clients 8 --duration 4 --setup-concurrency 4 --mix realistic --max-errors 0)

echo "== load smoke: SQLite"
timeout 120 "$PROFILE_DIR/kasdesa-load" "${ARGS[@]}" --label smoke-sqlite

echo "== load smoke: PostgreSQL"
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  db="kasdesa_smoke_$$"
  base="${PG_URL%/*}"
  psql "$PG_URL" -qc "CREATE DATABASE $db"
  trap 'psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  timeout 120 "$PROFILE_DIR/kasdesa-load" "${ARGS[@]}" --label smoke-postgres --database-url "$base/$db"
elif [ "${KASDESA_SMOKE_REQUIRE_PG:-0}" = 1 ]; then
  echo "PostgreSQL is not reachable at 127.0.0.1:5432 and KASDESA_SMOKE_REQUIRE_PG=1" >&2
  exit 1
else
  echo "PostgreSQL is not reachable at 127.0.0.1:5432: skipped"
fi

echo "== load smoke passed"
