#!/usr/bin/env bash
# Installs what the browser verifier's tests need (verifier/web): Debian's Chromium for the
# end-to-end test, and the npm packages pinned by verifier/web/package-lock.json.
# Idempotent: does nothing that is already done. Run as root on Debian.
set -euo pipefail
cd "$(dirname "$0")/../verifier/web"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

# npm ci when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
fi
