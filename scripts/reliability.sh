#!/usr/bin/env bash
# The slow reliability suites in their long modes, on SQLite and PostgreSQL (docs/reliability.md). CI runs the
# same suites in short modes. Usage: scripts/reliability.sh [KILLS] [FUZZ_CASES] [SCHEMATHESIS_SECONDS_PER_ROLE]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-50}"
CASES="${2:-5000}"
ST_SECONDS="${3:-120}"
PG_URL="${KASDESA_CI_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
long() {
  KASDESA_CRASH_KILLS="$KILLS" KASDESA_FUZZ_CASES="$CASES" KASDESA_PROPTEST_CASES=500 KASDESA_RACE_ROUNDS=50 \
    cargo test --test api -- --nocapture crash seeded_fuzz props races faults 2>&1 \
    | grep -E "SIGKILL|fuzz|backends killed|test result|panicked|FAILED"
}
echo "== SQLite"
long
echo "== PostgreSQL"
KASDESA_TEST_DATABASE_URL="$PG_URL" long
echo "== schemathesis"
scripts/fuzz-api.sh "$ST_SECONDS"
