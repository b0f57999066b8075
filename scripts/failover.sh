#!/usr/bin/env bash
# Failover without loss (docs/scaling.md): on this machine, two PostgreSQL clusters of Debian's packages beside the
# main one (which is left alone): a primary on $PRIMARY_PORT and a synchronous standby on $STANDBY_PORT, made with
# pg_createcluster and pg_basebackup. The service runs on a connection string that lists both hosts with
# target_session_attrs=read-write; the load generator posts bank credits (each retried by the bank's rule: the same
# body under the same Idempotency-Key, and once more after the run if it never got an answer) and reads the books;
# mid-run the primary's postmaster is killed with SIGKILL and the standby is promoted. The regency's reports read
# the standby (`database_read_url`) while it is within its lag bound, and the run counts how many it served. Then
# the books are checked (kasdesa-load's checks: every acknowledged posting present exactly once, no posting nobody
# was told of, balances equal to their entries, every village's chain verifies), and the figures printed: postings
# acknowledged, lost, doubled, reports read on the standby, seconds without a primary.
#
# BOUNCER=1 puts PgBouncer in transaction mode between the service and the pair (the service with
# KASDESA_DATABASE_POOLED=true, PgBouncer on BOUNCER_PORT, default 6440, pointed at the primary); once the standby is
# promoted PgBouncer is pointed at it and told to RELOAD, as a failover manager would do.
#
# Needs root (the clusters belong to the postgres user). Knobs: DURATION (s, default 30), KILL_AFTER (s, default
# 12), VILLAGES (20), CLIENTS (8), PRIMARY_PORT (5433), STANDBY_PORT (5434). The clusters are dropped at the end
# (KEEP=1 keeps them).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30}"
KILL_AFTER="${KILL_AFTER:-12}"
VILLAGES="${VILLAGES:-20}"
CLIENTS="${CLIENTS:-8}"
P="${PRIMARY_PORT:-5433}"
S="${STANDBY_PORT:-5434}"
VERSION="$(ls /etc/postgresql | sort -V | tail -n1)"
PRIMARY=kasdesa_fo_primary
STANDBY=kasdesa_fo_standby
OUT="${OUT:-target/failover/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
as_pg() { runuser -u postgres -- "$@"; }
# Scratch clusters on the loopback only: trust, as the main cluster of this machine does.
trust() {
  printf '%s\n' "local all all trust" "local replication all trust" "host all all 127.0.0.1/32 trust" \
    "host replication all 127.0.0.1/32 trust" > "/etc/postgresql/$VERSION/$1/pg_hba.conf"
}
export PGCONNECT_TIMEOUT=3

drop_clusters() {
  for c in "$PRIMARY" "$STANDBY"; do
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$c" stop -m immediate >/dev/null 2>&1 || true
    pg_dropcluster "$VERSION" "$c" >/dev/null 2>&1 || true
  done
}
BOUNCER_DIR="$OUT/pgbouncer"
BP="${BOUNCER_PORT:-6440}"
cleanup() {
  if [ "${BOUNCER:-0}" = 1 ]; then bouncer_stop "$BOUNCER_DIR"; fi
  [ "${KEEP:-0}" = 1 ] || drop_clusters
}
trap cleanup EXIT

echo "== clusters: primary :$P, synchronous standby :$S (PostgreSQL $VERSION)"
drop_clusters
pg_createcluster "$VERSION" "$PRIMARY" -p "$P" >/dev/null
cat >> "/etc/postgresql/$VERSION/$PRIMARY/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
synchronous_commit = on
synchronous_standby_names = '$STANDBY'
EOF
trust "$PRIMARY"
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" start

pg_createcluster "$VERSION" "$STANDBY" -p "$S" >/dev/null
echo "listen_addresses = '127.0.0.1'" >> "/etc/postgresql/$VERSION/$STANDBY/postgresql.conf"
trust "$STANDBY"
data="/var/lib/postgresql/$VERSION/$STANDBY"
find "$data" -mindepth 1 -delete
as_pg pg_basebackup -w -h 127.0.0.1 -p "$P" -U postgres -D "$data" -R -X stream \
  -d "host=127.0.0.1 port=$P user=postgres application_name=$STANDBY" >/dev/null
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$STANDBY" start
for _ in $(seq 1 50); do
  state=$(psql -w -h 127.0.0.1 -p "$P" -U postgres -Atc \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$STANDBY'" 2>/dev/null || true)
  [ "$state" = sync ] && break
  sleep 0.2
done
echo "standby $STANDBY: ${state:-not connected}"
[ "$state" = sync ] || { echo "the standby is not synchronous" >&2; exit 1; }
psql -w -h 127.0.0.1 -p "$P" -U postgres -qc "CREATE DATABASE kasdesa_failover"
sleep 1 # the database reaches the standby

URL="postgresql://postgres@127.0.0.1:$P,127.0.0.1:$S/kasdesa_failover?target_session_attrs=read-write&connect_timeout=2"
if [ "${BOUNCER:-0}" = 1 ]; then
  . scripts/lib/pgbouncer.sh
  bouncer_install
  mkdir -p "$BOUNCER_DIR"
  bouncer_config "$BOUNCER_DIR" "$BP" kasdesa_failover "$P" 4
  bouncer_start "$BOUNCER_DIR" "$BP"
  URL="postgresql://postgres@127.0.0.1:$BP/kasdesa_failover?connect_timeout=2"
  export KASDESA_DATABASE_POOLED=true
fi
# The regency's realisation (part of the generator's reads) is read from the streaming standby while it keeps up.
export KASDESA_DATABASE_READ_URL="postgresql://postgres@127.0.0.1:$S/kasdesa_failover?connect_timeout=2"
echo "== service on $URL (the regency's reports on the standby :$S)"
cargo build --release --quiet --bins -p kasdesa -p kasdesa-load

# The killer: SIGKILL to the primary's postmaster (and so its backends), then the standby promoted; the time from the
# kill until the promoted server accepts writes is the unavailability.
(
  sleep "$KILL_AFTER"
  pid=$(head -n1 "/var/lib/postgresql/$VERSION/$PRIMARY/postmaster.pid")
  killed=$(date +%s.%N)
  kill -9 "$pid"
  pkill -9 -f "/var/lib/postgresql/$VERSION/$PRIMARY" || true
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$STANDBY" promote
  until [ "$(psql -w -h 127.0.0.1 -p "$S" -U postgres -Atc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; do sleep 0.05; done
  if [ "${BOUNCER:-0}" = 1 ]; then
    sed -i "s/port=$P /port=$S /" "$BOUNCER_DIR/pgbouncer.ini"
    bouncer_admin "$BP" "RELOAD" >/dev/null
  fi
  writable=$(date +%s.%N)
  awk -v a="$killed" -v b="$writable" 'BEGIN {printf "%.2f\n", b - a}' > "$OUT/unavailable_s"
  echo "primary killed (pid $pid); the standby accepts writes after $(cat "$OUT/unavailable_s") s" \
    "$([ "${BOUNCER:-0}" = 1 ] && echo "(PgBouncer pointed at it)")"
) &
killer=$!

set +e
target/release/kasdesa-load --spawn --label failover --villages "$VILLAGES" --clients "$CLIENTS" --duration "$DURATION" \
  --mix credit=85,read=15 --max-errors 1000000 --database-url "$URL" --json-out "$OUT/failover.json" | tee "$OUT/failover.txt"
load_status=${PIPESTATUS[0]}
set -e
wait "$killer"

acked=$(jq -r '.run.postings' "$OUT/failover.json" 2>/dev/null || echo '?')
check() { jq -r --arg n "$1" ".checks.results[] | select(.name == \$n) | .$2" "$OUT/failover.json"; }
once=$(check acknowledged_exactly_once ok)
problems=$(check acknowledged_exactly_once failed)
chains=$(jq -r '[.checks.results[] | select(.name | startswith("hash_chain")) | .ok] | all' "$OUT/failover.json")
errors=$(jq -r '.run.errors_total' "$OUT/failover.json")
standby_reads=$(jq -r '.server.replica_reads_total // 0' "$OUT/failover.json")
{
  echo "== failover figures"
  echo "postings acknowledged:       $acked"
  echo "requests that failed:        $errors (each retried by the bank's rule; their outcome is checked)"
  if [ "$once" = true ]; then
    echo "lost: 0, doubled: 0          (every acknowledged posting listed exactly once, nothing unacknowledged)"
  else
    echo "lost or doubled:             $problems (listed in the generator's report above)"
  fi
  echo "every chain verifies:        $chains"
  echo "reports read on the standby: $standby_reads (the regency realisation, while the standby kept up)"
  echo "seconds without a primary:   $(cat "$OUT/unavailable_s") (from the SIGKILL until the promoted standby takes writes)"
  echo "load generator:              $([ "$load_status" = 0 ] && echo PASS || echo FAIL)"
} | tee "$OUT/summary.txt"
[ "$load_status" = 0 ] && [ "$once" = true ] && [ "$chains" = true ] && [ "$standby_reads" -gt 0 ]
