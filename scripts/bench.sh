#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md. On this machine, in one go:
#   1. the machine (CPUs, model, memory, kernel, PostgreSQL and its durability settings) and the commit;
#   2. a release build;
#   3. kasdesa-load --spawn against SQLite and against PostgreSQL (a fresh database each time, dropped after):
#      credits only, credits in batches of 100 (POST /bank/credits/batch), then the realistic mix; 118 villages,
#      32 clients, 30 s each by default;
#   4. the floor: pgbench on a database prepared by `kasdesa migrate` plus the same number of seeded villages,
#      one transaction per posting doing what one bank credit does in SQL (lock the village row, insert the
#      transaction and its two entries, update two balances and the village's sequence and chain head) — and a
#      second script that also does every other statement the service issues for a credit (idempotency look-ups
#      and record, bank-credit de-duplication, fiscal year and account reads);
#   5. a summary: postings/s, latency percentiles, peak RSS, and the service's postings/s as a share of the floor.
# Results (text and JSON per run, the pgbench output, the summary) go to target/bench/<UTC time>/.
#
# COMPARE=1 runs the side-by-side sitting instead (docs/benchmarks.md, "Side by side"): ROUNDS rounds (default 3),
# each alternating kasdesa's single credits over HTTP (coalesced, and each alone: credit_writers = 0), its batches of 100 (to random villages, and to one village:
# --batch-villages 1), the same with the PREVIOUS build (a git revision, built into target/bench-prev, or
# PREVIOUS_BIN, a directory holding its kasdesa; optional), the two floors, and a peer measured by hand (PEER_DIR:
# a setup.sql run once in a fresh database and *.pgbench scripts run like the floors, a name ending in -batchN
# counting N postings per transaction; nothing of a peer is kept in this repository). Then the median of each
# figure and of each ratio taken within a round (the machine drifts from minute to minute; a ratio inside one
# round does not).
#
# Knobs (environment): DURATION (s, default 30), CLIENTS (32), VILLAGES (118), PG_URL (a maintenance database on
# the server to use, default postgres://postgres@127.0.0.1:5432/postgres), SKIP_SQLITE=1, SKIP_PG=1,
# PROFILE=1 (system-wide `perf record` during the PostgreSQL credit run, summarised by command and by symbol),
# WAIT_QUIET=SECONDS (before each run, wait up to that long for the machine's load average to fall below 0.7).
#
# SOAK=SECONDS runs the soak instead: the realistic mix for that long (600 for the 10-minute soak) on PostgreSQL
# (SQLite if the server is down), the service's RSS sampled every 10 s, printed as a timeline with its growth (mean
# of the last sixth of the samples less the first sixth), then READS_AFTER seconds (default 60) of reads alone on the
# database it grew (4 clients, nothing written meanwhile: `kasdesa-load --reads-after`), then the book checks as in
# every run.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30}"
READS_AFTER="${READS_AFTER:-60}"
CLIENTS="${CLIENTS:-32}"
VILLAGES="${VILLAGES:-118}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_BASE="${PG_URL%/*}"
# Service and database share the host, so the runs reach PostgreSQL over its Unix socket when there is one (no TCP,
# no TLS: what a same-host deployment uses); PG_SOCKET= (empty) uses PG_URL's host instead, TLS and all.
PG_SOCKET="${PG_SOCKET-/var/run/postgresql}"
[ -n "$PG_SOCKET" ] && [ ! -S "$PG_SOCKET/.s.PGSQL.5432" ] && PG_SOCKET=""
db_url() { # database name → the URL the service and pgbench use
  if [ -n "$PG_SOCKET" ]; then echo "postgresql:///$1?host=$PG_SOCKET&user=postgres"; else echo "$PG_BASE/$1"; fi
}
OUT="${OUT:-target/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
BIN=target/release
mkdir -p "$OUT"
CREATED_DBS=()

cleanup() {
  for db in "${CREATED_DBS[@]}"; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

fresh_db() { # name → creates it, remembers it for clean-up
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql "$PG_URL" -qc "CREATE DATABASE $1"
  CREATED_DBS+=("$1")
}

drop_db() {
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
}

floor_setup() { # database → migrated, seeded with the villages, the two scripts written to $OUT, warmed up
  local db="$1"
  KASDESA_DATABASE_URL="$PG_BASE/$db" KASDESA_DATA_DIR="$OUT/floor-data" RUST_LOG=warn "$BIN/kasdesa" migrate
  psql -v ON_ERROR_STOP=1 -q "$PG_BASE/$db" -v nvillages="$VILLAGES" <<'SQL'
INSERT INTO regencies (id, code, name, created_at) VALUES ('floor-regency', 'FLOOR', 'Kabupaten Lantai', now());
INSERT INTO villages (id, regency_id, code, name, bank_account, cash_limit, last_seq, chain_len, chain_head, created_at)
SELECT 'floor-v-' || lpad(n::text, 4, '0'), 'floor-regency', 'FLOOR.' || lpad(n::text, 4, '0'), 'Desa Lantai ' || n,
       '10' || lpad(n::text, 8, '0'), 1000000000, 0, 0, repeat('0', 64), now()
FROM generate_series(1, :nvillages) AS n;
-- The two accounts a credit touches (the service seeds the whole chart; only these two rows are written).
INSERT INTO accounts (village_id, code, name, class, normal_side, balance)
SELECT v.id, a.code, a.name, a.class, a.side, 0
FROM villages v CROSS JOIN (VALUES ('1.1.1.02', 'Rekening Kas Desa', 'asset', 'debit'),
                                   ('4.2.1.01', 'Dana Desa', 'revenue', 'credit')) AS a(code, name, class, side);
INSERT INTO fiscal_years (village_id, year, status)
SELECT id, EXTRACT(YEAR FROM CURRENT_DATE)::int, 'open' FROM villages;
ANALYZE;
SQL

  # One bank credit, in SQL: what the brief calls the floor.
  cat > "$OUT/floor.sql" <<'SQL'
\set v random(1, :nvillages)
\set amount random(100000, 5000000000)
BEGIN;
SELECT id AS vid, last_seq + 1 AS seq, chain_len + 1 AS cseq, chain_head AS prev, gen_random_uuid()::text AS txid FROM villages WHERE id = 'floor-v-' || lpad((:v)::text, 4, '0') FOR UPDATE \gset
INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, bank_reference, created_by, created_at, prev_hash, hash) VALUES ((:txid)::text, (:vid)::text, (:seq)::bigint, (:cseq)::bigint, EXTRACT(YEAR FROM CURRENT_DATE)::int, 'receipt', CURRENT_DATE, 'Transfer masuk ke rekening kas desa', 'FLOOR-' || (:txid)::text, 'floor-bank', now(), (:prev)::text, encode(sha256(convert_to((:prev)::text || (:txid)::text, 'UTF8')), 'hex'));
INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, source, value_date) VALUES ((:txid)::text, 1, (:vid)::text, '1.1.1.02', 'debit', (:amount)::bigint, 'DDS', CURRENT_DATE), ((:txid)::text, 2, (:vid)::text, '4.2.1.01', 'credit', (:amount)::bigint, 'DDS', CURRENT_DATE);
UPDATE accounts SET balance = balance + (:amount)::bigint WHERE village_id = (:vid)::text AND code = '1.1.1.02';
UPDATE accounts SET balance = balance - (:amount)::bigint WHERE village_id = (:vid)::text AND code = '4.2.1.01';
UPDATE villages SET last_seq = (:seq)::bigint, chain_len = (:cseq)::bigint, chain_head = encode(sha256(convert_to((:prev)::text || (:txid)::text, 'UTF8')), 'hex') WHERE id = (:vid)::text;
END;
SQL

  # The same rows, sent the way the service sends a credit (src/store/pg.rs): BEGIN; one statement that
  # locks the village row and reads the idempotency record, the bank-credit record, the fiscal year and the two
  # balances with it; one statement that writes the transaction, its entries, the balances (guarded), the daily
  # totals, the bank-credit record, the stored answer (about 1 KB, like the service's) and the village's chain head;
  # COMMIT. (The balances are added to rather than set from the values read: pgbench cannot re-read them when the
  # lock waited, as the service does.) This is the database's share of a credit without the service: service / this floor is the service's own
  # overhead. When the store changes, re-read the statements from the PostgreSQL log:
  #   ALTER DATABASE <db> SET log_statement = 'all'; then a few credits with kasdesa-load --database-url .../<db>.
  cat > "$OUT/floor-full.sql" <<'SQL'
\set v random(1, :nvillages)
\set amount random(100000, 5000000000)
\set k random(1, 1000000000000)
BEGIN;
SELECT v.id AS vid, v.last_seq + 1 AS seq, v.chain_len + 1 AS cseq, v.chain_head AS prev, gen_random_uuid()::text AS txid, COALESCE(k.request_hash, '') AS stored, COALESCE(bc.amount, 0) AS credited, (SELECT s.chain_len FROM villages s WHERE s.id = v.id) AS snap, COALESCE((SELECT f.status FROM fiscal_years f WHERE f.village_id = v.id AND f.year = EXTRACT(YEAR FROM CURRENT_DATE)::int), '') AS ystatus, ARRAY(SELECT a.code FROM accounts a WHERE a.village_id = v.id AND a.code = ANY('{1.1.1.02,4.2.1.01}') ORDER BY a.code) AS codes, (SELECT a.balance FROM accounts a WHERE a.village_id = v.id AND a.code = '1.1.1.02') AS bank, (SELECT a.balance FROM accounts a WHERE a.village_id = v.id AND a.code = '4.2.1.01') AS revenue FROM villages v LEFT JOIN idempotency_keys k ON k.principal = 'floor-bank' AND k.key = 'k-' || (:k)::text LEFT JOIN bank_credits bc ON bc.village_id = v.id AND bc.bank_reference = 'FLOOR-' || (:k)::text WHERE v.id = 'floor-v-' || lpad((:v)::text, 4, '0') FOR UPDATE OF v \gset
WITH t AS (INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, bank_reference, created_by, created_at, prev_hash, hash) VALUES ((:txid)::text, (:vid)::text, (:seq)::bigint, (:cseq)::bigint, EXTRACT(YEAR FROM CURRENT_DATE)::int, 'receipt', CURRENT_DATE, 'Transfer masuk ke rekening kas desa', 'FLOOR-' || (:txid)::text, 'floor-bank', now(), (:prev)::text, encode(sha256(convert_to((:prev)::text || (:txid)::text, 'UTF8')), 'hex'))), e AS (INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, activity_code, source, value_date) SELECT (:txid)::text, u.line_no, (:vid)::text, u.code, u.side, u.amount, u.activity, u.source, CURRENT_DATE FROM unnest(ARRAY[1, 2], ARRAY['1.1.1.02', '4.2.1.01'], ARRAY['debit', 'credit'], ARRAY[(:amount)::bigint, (:amount)::bigint], ARRAY[NULL, NULL]::text[], ARRAY['DDS', 'DDS']) AS u(line_no, code, side, amount, activity, source)), b AS (UPDATE accounts a SET balance = a.balance + u.delta FROM unnest(ARRAY['1.1.1.02', '4.2.1.01'], ARRAY[(:amount)::bigint, -(:amount)::bigint]) AS u(code, delta) WHERE a.village_id = (:vid)::text AND a.code = u.code RETURNING 1), d AS (INSERT INTO account_daily (village_id, account_code, value_date, debit, credit) SELECT (:vid)::text, u.code, CURRENT_DATE, u.debit, u.credit FROM unnest(ARRAY['1.1.1.02', '4.2.1.01'], ARRAY[(:amount)::bigint, 0], ARRAY[0, (:amount)::bigint]) AS u(code, debit, credit) ON CONFLICT (village_id, account_code, value_date) DO UPDATE SET debit = account_daily.debit + EXCLUDED.debit, credit = account_daily.credit + EXCLUDED.credit), c AS (INSERT INTO bank_credits (village_id, bank_reference, amount, source, transaction_id, client_id, created_at) VALUES ((:vid)::text, 'FLOOR-' || (:txid)::text, (:amount)::bigint, 'DDS', (:txid)::text, 'floor-bank', now())), k AS (INSERT INTO idempotency_keys (principal, key, request_hash, village_id, status, body, created_at) VALUES ('floor-bank', 'k-' || (:k)::text || '-' || (:txid)::text, encode(sha256(convert_to((:txid)::text, 'UTF8')), 'hex'), (:vid)::text, 201, repeat('x', 1100), now())), z AS (SELECT 1) UPDATE villages SET last_seq = (:seq)::bigint, chain_len = (:cseq)::bigint, chain_head = encode(sha256(convert_to((:prev)::text || (:txid)::text, 'UTF8')), 'hex') WHERE id = (:vid)::text AND (SELECT count(*) FROM b) = 2 AND EXISTS (SELECT 1 FROM fiscal_years f WHERE f.village_id = (:vid)::text AND f.year = EXTRACT(YEAR FROM CURRENT_DATE)::int AND f.status = 'open');
END;
SQL

  # Warm-up, unmeasured: the tables were just created and analysed empty, and until autovacuum has seen them grow
  # the plans are poor (measured: 855 then 3,277 postings/s for the same script 40 s apart). Then fresh statistics.
  for script in floor floor-full; do
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -n -M prepared -c "$CLIENTS" -j 2 -T 5 \
      -D nvillages="$VILLAGES" -f "$OUT/$script.sql" "$(db_url "$db")" >/dev/null 2>&1 || true
  done
  psql "$PG_BASE/$db" -qc "VACUUM ANALYZE"
}

pg_up=0
if [ "${SKIP_PG:-0}" != 1 ] && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then pg_up=1; fi

echo "== machine" | tee "$OUT/machine.txt"
{
  echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "cpus:     $(nproc)"
  echo "cpu:      $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
  echo "memory:   $(free -m | awk '/^Mem:/ {print $2 " MB"}')"
  echo "kernel:   $(uname -sr)"
  echo "virt:     $(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -n1)"
  echo "disk:     $(df -h . | awk 'NR==2 {print $1 " " $2}')"
  echo "rustc:    $(rustc --version)"
  if [ "$pg_up" = 1 ]; then
    echo "postgres: $(psql "$PG_URL" -Atc 'SHOW server_version')," \
      "fsync=$(psql "$PG_URL" -Atc 'SHOW fsync')," \
      "synchronous_commit=$(psql "$PG_URL" -Atc 'SHOW synchronous_commit')," \
      "shared_buffers=$(psql "$PG_URL" -Atc 'SHOW shared_buffers')," \
      "max_connections=$(psql "$PG_URL" -Atc 'SHOW max_connections')," \
      "autovacuum=$(psql "$PG_URL" -Atc 'SHOW autovacuum')"
  fi
  echo "sqlite:   bundled; WAL, synchronous=FULL, group commit (src/store/mod.rs, group_commit.rs)"
  if [ -n "$PG_SOCKET" ]; then echo "pg link:  Unix socket $PG_SOCKET"; else echo "pg link:  $PG_BASE (TCP; TLS if offered)"; fi
  echo "load:     $VILLAGES villages, $CLIENTS clients, $DURATION s per run"
  echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) before the runs (anything else busy on the machine skews the figures)"
} | tee -a "$OUT/machine.txt"

echo "== release build"
cargo build --release --bins --quiet

# Other work on the machine skews every figure: wait (up to WAIT_QUIET seconds, default 0) for the 1-minute load
# average to drop below 0.7, and say so in the output if it did not.
wait_quiet() {
  local waited=0 limit="${WAIT_QUIET:-0}"
  while awk '{exit !($1 >= 0.7)}' /proc/loadavg && [ "$waited" -lt "$limit" ]; do sleep 5; waited=$((waited + 5)); done
  if awk '{exit !($1 >= 0.7)}' /proc/loadavg; then
    echo "!! the machine is busy (load average $(cut -d' ' -f1-3 /proc/loadavg)): figures will be low" | tee -a "$OUT/machine.txt"
  fi
}

# A checkpoint before each PostgreSQL run, so that no run pays for the WAL the previous one wrote (a checkpoint
# falling into a run halved its figures on this host).
checkpoint() { [ "$pg_up" = 1 ] && psql "$PG_URL" -qc CHECKPOINT >/dev/null 2>&1 || true; }

run_load() { # label, then extra arguments (LOAD_BIN: the directory of the build to run, default this one;
  # LOAD_ENV: VAR=value words for the generator and the service it spawns)
  local label="$1"; shift
  checkpoint
  [ "${already_waited:-0}" = 1 ] || wait_quiet
  echo "== $label (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086 # LOAD_ENV is words
  env ${LOAD_ENV:-} "${LOAD_BIN:-$BIN}/kasdesa-load" --spawn --label "$label" --villages "$VILLAGES" --clients "$CLIENTS" --duration "$DURATION" \
    --json-out "$OUT/$label.json" "$@" | tee "$OUT/$label.txt"
}

tps_of() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$1" | head -n1; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

if [ -n "${SOAK:-}" ]; then
  if [ "$pg_up" = 1 ]; then
    db="kasdesa_bench_$$_soak"; fresh_db "$db"
    DURATION="$SOAK" run_load pg-soak --mix realistic --database-url "$(db_url "$db")" \
      --reads-after "$READS_AFTER"
    drop_db "$db"
    label=pg-soak
  else
    DURATION="$SOAK" run_load sqlite-soak --mix realistic --reads-after "$READS_AFTER"
    label=sqlite-soak
  fi
  jq -r '"soak: \(.config.duration_s) s, RSS growth \(.server.rss_growth_mb) MB, peak \(.server.peak_rss_mb_run) MB, books \(if .pass then "pass" else "FAIL" end); reads alone after it: worst p99 \([.reads_after.latency[]?.p99_ms] | max) ms"' \
    "$OUT/$label.json" | tee "$OUT/soak-summary.txt"
  echo "results in $OUT"
  exit 0
fi

if [ "${COMPARE:-0}" = 1 ]; then
  [ "$pg_up" = 1 ] || { echo "COMPARE=1 needs PostgreSQL" >&2; exit 1; }
  ROUNDS="${ROUNDS:-3}"
  PREV_BIN="${PREVIOUS_BIN:-}" # a directory holding the previous build's kasdesa, already built
  if [ -z "$PREV_BIN" ] && [ -n "${PREVIOUS:-}" ]; then
    echo "== the previous build: $PREVIOUS"
    rm -rf target/bench-prev-src
    git worktree add --force --detach target/bench-prev-src "$PREVIOUS" >/dev/null
    (cd target/bench-prev-src && CARGO_TARGET_DIR="$PWD/../bench-prev" cargo build --release --bins --quiet \
      -p kasdesa -p kasdesa-load)
    git worktree remove --force target/bench-prev-src
    PREV_BIN=target/bench-prev/release
  fi
  db="kasdesa_bench_$$_floor"; fresh_db "$db"
  floor_setup "$db"
  floor_db="$db"
  peer_db=""
  if [ -n "${PEER_DIR:-}" ]; then
    peer_db="kasdesa_bench_$$_peer"; fresh_db "$peer_db"
    psql -v ON_ERROR_STOP=1 -q "$(db_url "$peer_db")" -f "$PEER_DIR/setup.sql" >/dev/null
  fi
  pgbench_run() { # label, database, script
    checkpoint
    echo "-- $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" \
      -D nvillages="$VILLAGES" -f "$3" "$(db_url "$2")" > "$OUT/$1.txt" 2>&1 || true
    grep -E '^(tps|latency average)' "$OUT/$1.txt" || tail -n 3 "$OUT/$1.txt"
  }
  for round in $(seq 1 "$ROUNDS"); do
    echo "==== round $round of $ROUNDS"
    for build in new prev; do
      [ "$build" = prev ] && [ -z "$PREV_BIN" ] && continue
      bin="$BIN"; [ "$build" = prev ] && bin="$PREV_BIN"
      # credits: single credits; batches: batches of 100 to random villages (a regency's transfer of Dana Desa);
      # village-batches: batches of 100 to one village (a day's receipts into its account), the shape of the peer's
      # batch function (100 transfers on one pair). This build's generator drives both builds (--server-bin).
      # credits-alone (this build only): single credits each in a transaction of its own (credit_writers = 0),
      # against which the coalesced groups of src/store/coalesce.rs are measured.
      mixes="credits batches village-batches"; [ "$build" = new ] && mixes="credits credits-alone batches village-batches"
      for mix in $mixes; do
        load_env=""
        case "$mix" in
          village-batches) args=(--mix batches --batch-villages 1) ;;
          credits-alone) args=(--mix credits); load_env="KASDESA_CREDIT_WRITERS=0" ;;
          *) args=(--mix "$mix") ;;
        esac
        db="kasdesa_bench_$$_${build}_${mix//-/_}"; fresh_db "$db"
        LOAD_ENV="$load_env" run_load "r$round-$build-$mix" "${args[@]}" --server-bin "$bin/kasdesa" \
          --database-url "$(db_url "$db")" >/dev/null
        jq -r '"\(.label): \(.run.postings_per_s|floor) postings/s, p99 \((.run.latency[] | select(.op == "credit" or .op == "credit batch") | .p99_ms)) ms, books \(if .pass then "pass" else "FAIL" end)"' \
          "$OUT/r$round-$build-$mix.json"
        drop_db "$db"
      done
    done
    pgbench_run "r$round-floor" "$floor_db" "$OUT/floor.sql"
    pgbench_run "r$round-floor-full" "$floor_db" "$OUT/floor-full.sql"
    if [ -n "$peer_db" ]; then
      for script in "$PEER_DIR"/*.pgbench; do
        pgbench_run "r$round-peer-$(basename "$script" .pgbench)" "$peer_db" "$script"
      done
    fi
  done

  # Postings per second of each run, by round.
  postings() { # round, run name → postings/s
    local f="$OUT/r$1-$2"
    if [ -f "$f.json" ]; then jq -r '.run.postings_per_s' "$f.json"; return; fi
    local tps; tps=$(tps_of "$f.txt"); local n=1
    case "$2" in *-batch[0-9]*) n="${2##*-batch}" ;; esac
    awk -v t="${tps:-0}" -v n="$n" 'BEGIN {print t * n}'
  }
  runs="new-credits new-credits-alone new-batches new-village-batches floor floor-full"
  [ -n "$PREV_BIN" ] && runs="$runs prev-credits prev-batches prev-village-batches"
  if [ -n "$peer_db" ]; then
    for script in "$PEER_DIR"/*.pgbench; do runs="$runs peer-$(basename "$script" .pgbench)"; done
  fi
  {
    echo "== side by side: medians of $ROUNDS rounds ($CLIENTS clients, $VILLAGES villages, $DURATION s each)"
    for r in $runs; do
      printf '%-24s %10.0f postings/s   (rounds: %s)\n' "$r" "$(for i in $(seq 1 "$ROUNDS"); do postings "$i" "$r"; done | median)" \
        "$(for i in $(seq 1 "$ROUNDS"); do printf '%.0f ' "$(postings "$i" "$r")"; done)"
    done
    ratio() { # numerator run, denominator run → the median of the per-round ratios
      for i in $(seq 1 "$ROUNDS"); do awk -v a="$(postings "$i" "$1")" -v b="$(postings "$i" "$2")" 'BEGIN {if (b > 0) print a / b}'; done | median
    }
    echo "-- ratios (median of the ratios within each round)"
    for pair in "new-credits floor" "new-credits floor-full" "new-credits new-credits-alone" "new-batches new-credits" "new-village-batches new-credits" \
      "new-batches floor" ${PREV_BIN:+"new-credits prev-credits" "new-batches prev-batches" "new-village-batches prev-village-batches"}; do
      set -- $pair
      printf '%-40s %.2f\n' "$1 / $2" "$(ratio "$1" "$2")"
    done
    if [ -n "$peer_db" ]; then
      for script in "$PEER_DIR"/*.pgbench; do
        peer="peer-$(basename "$script" .pgbench)"
        case "$peer" in *-batch[0-9]*) ours="new-batches new-village-batches" ;; *) ours=new-credits ;; esac
        for o in $ours; do printf '%-40s %.2f\n' "$o / $peer" "$(ratio "$o" "$peer")"; done
      done
    fi
  } | tee "$OUT/side-by-side.txt"
  drop_db "$floor_db"
  [ -n "$peer_db" ] && drop_db "$peer_db"
  echo "results in $OUT"
  exit 0
fi

if [ "${SKIP_SQLITE:-0}" != 1 ]; then
  run_load sqlite-credits --mix credits
  run_load sqlite-batches --mix batches
  run_load sqlite-mix --mix realistic
fi

if [ "$pg_up" = 1 ]; then
  db="kasdesa_bench_$$_credits"; fresh_db "$db"
  wait_quiet
  if [ "${PROFILE:-0}" = 1 ]; then
    # System-wide, so the service, PostgreSQL and the generator are all seen; from just after the (short) setup of a
    # credits-only run to just before its end.
    ( sleep 4; perf record -a -g -F 499 -o "$OUT/perf-pg-credits.data" -- sleep $((DURATION > 12 ? DURATION - 8 : 3)) \
        >/dev/null 2>"$OUT/perf-record.log" ) &
    perf_pid=$!
  fi
  already_waited=1 run_load pg-credits --mix credits --database-url "$(db_url "$db")"
  drop_db "$db"
  db="kasdesa_bench_$$_batches"; fresh_db "$db"
  run_load pg-batches --mix batches --database-url "$(db_url "$db")"
  drop_db "$db"
  if [ "${PROFILE:-0}" = 1 ]; then
    wait "$perf_pid" || true
    perf report -i "$OUT/perf-pg-credits.data" --no-children --sort comm -g none --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -n 15 > "$OUT/perf-by-command.txt" || true
    perf report -i "$OUT/perf-pg-credits.data" --no-children --sort comm,dso -g none --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -n 25 > "$OUT/perf-by-dso.txt" || true
    perf report -i "$OUT/perf-pg-credits.data" --no-children --sort comm,dso,sym -g none --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | grep '%' | head -n 40 > "$OUT/perf-by-symbol.txt" || true
    echo "-- where the CPU went (perf, system-wide, by command, then by command and library):"
    cat "$OUT/perf-by-command.txt" "$OUT/perf-by-dso.txt"
  fi

  db="kasdesa_bench_$$_mix"; fresh_db "$db"
  run_load pg-mix --mix realistic --database-url "$(db_url "$db")"
  drop_db "$db"

  # Full payment chains only: the figure the payment target is about.
  db="kasdesa_bench_$$_payments"; fresh_db "$db"
  run_load pg-payments --mix payments --database-url "$(db_url "$db")"
  drop_db "$db"

  echo "== floor: pgbench, the same postings in plain SQL"
  db="kasdesa_bench_$$_floor"; fresh_db "$db"
  floor_setup "$db"
  for script in floor floor-full; do
    checkpoint
    wait_quiet
    echo "-- pgbench $script: $CLIENTS clients, $DURATION s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    # With the service's session setting (generic plans for prepared statements, src/store/mod.rs).
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" \
      pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -D nvillages="$VILLAGES" -f "$OUT/$script.sql" \
      "$(db_url "$db")" 2>&1 | tee "$OUT/pgbench-$script.txt"
  done
  psql "$PG_BASE/$db" -Atc "SELECT 'floor check: ' || (SELECT count(*) FROM transactions) || ' transactions posted, '
    || 'sum of all balances ' || (SELECT sum(balance) FROM accounts) || ' (0 = balanced)'" | tee -a "$OUT/pgbench-floor-full.txt"
  drop_db "$db"
else
  echo "== PostgreSQL is not reachable at 127.0.0.1:5432 (or SKIP_PG=1): PostgreSQL runs and the floor skipped"
fi

echo "== summary" | tee "$OUT/summary.txt"
{
  printf '%-15s %10s %9s %9s %9s %9s %9s %8s %7s %s\n' run postings/s req/s "p50 ms" "p95 ms" "p99 ms" "max ms" "RSS MB" errors books
  for f in "$OUT"/sqlite-credits.json "$OUT"/sqlite-batches.json "$OUT"/sqlite-mix.json "$OUT"/pg-credits.json \
    "$OUT"/pg-batches.json "$OUT"/pg-mix.json "$OUT"/pg-payments.json; do
    [ -f "$f" ] || continue
    # The latency of the posting request itself: the credit for credits-only runs, the bank result for the mix.
    jq -r '
      (if .config.mix.payment > 0 then "bank result" elif (.config.mix.batch // 0) > 0 then "credit batch" else "credit" end) as $op
      | (.run.latency[] | select(.op == $op)) as $l
      | [ .label, (.run.postings_per_s|floor), (.run.requests_per_s|floor), $l.p50_ms, $l.p95_ms, $l.p99_ms, $l.max_ms,
          (.server.peak_rss_mb_run // 0 | floor), .run.errors_total, (if .pass then "pass" else "FAIL" end) ]
      | @tsv' "$f" | awk -F'\t' '{printf "%-15s %10s %9s %9.2f %9.2f %9.2f %9.2f %8s %7s %s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
  done
  for f in "$OUT"/pg-mix.json "$OUT"/pg-payments.json "$OUT"/sqlite-mix.json; do
    [ -f "$f" ] || continue
    jq -r '"\(.label): \(.run.scenarios["payments (paid)"].per_s|floor) full payments/s (p99 of the whole chain \((.run.scenario_latency[] | select(.op=="payment chain") | .p99_ms)) ms), \(.run.scenarios["tax deposits"].per_s|floor) tax deposits/s, \(.run.scenarios.credits.per_s|floor) credits/s, \(.run.scenarios.reads.per_s|floor) reads/s"' "$f"
  done
  if [ -f "$OUT/pgbench-floor.txt" ] && [ -f "$OUT/pg-credits.json" ]; then
    floor=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench-floor.txt" | head -n1)
    full=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench-floor-full.txt" | head -n1)
    service=$(jq -r '.run.postings_per_s' "$OUT/pg-credits.json")
    echo "floor (pgbench, one credit's rows per transaction):       ${floor} postings/s"
    echo "floor with every statement the service issues per credit:  ${full} postings/s"
    echo "service on PostgreSQL, credits only:                       ${service} postings/s"
    awk -v s="$service" -v f="$floor" -v g="$full" 'BEGIN {
      printf "service / floor = %.1f%%; service / full floor = %.1f%%\n", 100*s/f, 100*s/g }'
  fi
} | tee -a "$OUT/summary.txt"
echo "results in $OUT"
