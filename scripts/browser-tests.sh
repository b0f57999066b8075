#!/usr/bin/env bash
# Browser tests of the web console (tests/browser): installs what is missing (Debian's chromium, playwright-core
# from npm), builds the debug binary and runs the tests in headless Chromium. Exits non-zero on any failure.
# Screenshots land in docs/screenshots/ (KASDESA_SCREENSHOTS=DIR to put them elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

if [ ! -x /usr/bin/chromium ]; then
  echo "browser-tests: installing chromium" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "browser-tests: installing nodejs and npm" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

(
  cd tests/browser
  if [ ! -d node_modules/playwright-core ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  fi
)

cargo build --bin kasdesa

cd tests/browser
exec node --test --test-concurrency=1 --test-timeout=300000 console.test.mjs
