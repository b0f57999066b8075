#!/usr/bin/env bash
# Fuzzes the JSON API from its own OpenAPI document with schemathesis (PyPI): no 500 anywhere, and the books still
# verify afterwards. Usage: scripts/fuzz-api.sh [SECONDS_PER_ROLE] (default 60; CI runs a short mode).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_ROLE="${1:-60}"
VENV="${KASDESA_FUZZ_VENV:-target/schemathesis-venv}"
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
cargo build --quiet --bin kasdesa
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KASDESA_DATA_DIR="$DIR" KASDESA_BIND="127.0.0.1:$PORT" KASDESA_ADMIN_PASSWORD=fuzz-admin-password \
  RUST_LOG=warn target/debug/kasdesa serve 2>"$DIR/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
API="http://127.0.0.1:$PORT/api/v1"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
json() { grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d '"' -f 4; }
post() { curl -fs "$API$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3"; }
ADMIN=$(curl -fs "$API/auth/login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"fuzz-admin-password"}' | json access_token)
REGENCY=$(post /regencies "$ADMIN" '{"code":"61.12","name":"Kubu Raya"}' | json id)
VILLAGE=$(post /villages "$ADMIN" "{\"code\":\"61.12.01.2001\",\"name\":\"Desa\",\"regency_id\":\"$REGENCY\",\"bank_account\":\"1012345678\",\"cash_limit\":\"10000000.00\"}" | json id)
for role in treasurer implementer head; do
  post /users "$ADMIN" "{\"username\":\"$role\",\"password\":\"$role-password-1\",\"role\":\"$role\",\"village_id\":\"$VILLAGE\"}" >/dev/null
done
post /users "$ADMIN" "{\"username\":\"inspector\",\"password\":\"inspector-password-1\",\"role\":\"inspector\",\"regency_id\":\"$REGENCY\"}" >/dev/null
status=0
for role in treasurer implementer head inspector admin; do
  if [ "$role" = admin ]; then TOKEN=$ADMIN; else
    TOKEN=$(curl -fs "$API/auth/login" -H 'content-type: application/json' \
      -d "{\"username\":\"$role\",\"password\":\"$role-password-1\"}" | json access_token)
  fi
  echo "== schemathesis as $role (${SECONDS_PER_ROLE}s)"
  # One worker: with two, CPython 3.11's ast.parse can race inside Hypothesis ("AST constructor recursion depth
  # mismatch", seen in CI on 2026-12-01), a crash of the fuzzer rather than a finding.
  "$VENV/bin/st" run "$API/openapi.json" --checks not_a_server_error --max-time "$SECONDS_PER_ROLE" \
    --workers 1 -H "Authorization: Bearer $TOKEN" --request-timeout 10 \
    --exclude-path-regex '^/(health|metrics|api/v1/auth/logout)' --suppress-health-check all --warnings off || status=1
done
TREASURER=$(curl -fs "$API/auth/login" -H 'content-type: application/json' \
  -d '{"username":"treasurer","password":"treasurer-password-1"}' | json access_token)
VERIFY=$(curl -fs "$API/villages/$VILLAGE/audit/verify" -H "authorization: Bearer $TREASURER")
echo "verify: $VERIFY"
echo "$VERIFY" | grep -q '"ok":true' || { echo "the books do not verify after fuzzing"; status=1; }
if grep -q "panicked" "$DIR/server.log"; then echo "the server panicked"; status=1; fi
exit $status
