#!/usr/bin/env bash
# Run before `npm run dev` and `npm test`: installs what the project needs when it is missing, so
# both commands work on a fresh clone. Runs on the machine's own Node (>= 20); everything after it
# uses Node 22 from node_modules/.bin.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm writes node_modules/.package-lock.json on install; older than package-lock.json means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
fi

# Tests (not dev) need a real redis-server: from PATH, or REDIS_URL.
if [ "${1:-}" = "--redis" ] && [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing redis-server from Debian's packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "[setup] tests need a real Redis: install redis-server (e.g. apt-get install redis-server)" >&2
    echo "[setup] or set REDIS_URL=redis://host:port" >&2
    exit 1
  fi
fi

# Tests also drive a real browser: Debian's Chromium at /usr/bin/chromium (or CHROMIUM_PATH).
if [ "${1:-}" = "--redis" ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium from Debian's packages (for the dashboard's browser test)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium fonts-liberation >/dev/null
  else
    echo "[setup] the dashboard's browser test needs Chromium at /usr/bin/chromium:" >&2
    echo "[setup] install it (e.g. apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary" >&2
    exit 1
  fi
fi
