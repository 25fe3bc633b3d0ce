#!/usr/bin/env bash
# The README's main command: builds everything, makes a sample log of demo data on disk
# (the validator network replaces this with a live 4-validator testnet, issue #3), serves it
# on 127.0.0.1 with bansos-node, audits it with bansos-verify as a journalist would, and checks
# one recipient's offline proof bundle. Stops the server on exit.
#   DEMO_DIR (default ./demo), DEMO_ALLOCATIONS (default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_DIR=${DEMO_DIR:-demo}
DEMO_ALLOCATIONS=${DEMO_ALLOCATIONS:-20000}

cargo build --release --locked -p bansos-testnet -p bansos-node -p bansos-verify
BIN=${CARGO_TARGET_DIR:-target}/release

rm -rf "$DEMO_DIR"
"$BIN/bansos-testnet" sample --dir "$DEMO_DIR" --allocations "$DEMO_ALLOCATIONS"

"$BIN/bansos-node" serve-log --dir "$DEMO_DIR" --listen 127.0.0.1:0 --url-file "$DEMO_DIR/url" &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true; wait $NODE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$DEMO_DIR/url" ] && break; sleep 0.1; done
URL=$(cat "$DEMO_DIR/url")

echo "== auditing the whole log at $URL (quorum 3 of the 4 validator keys)"
"$BIN/bansos-verify" log --url "$URL" --keys-file "$DEMO_DIR/vkeys.txt" --quorum 3

PROOF=$(ls "$DEMO_DIR"/proofs/*.tlog-proof | head -n 1)
echo "== verifying a recipient's offline proof bundle $PROOF"
"$BIN/bansos-verify" proof "$PROOF" --keys-file "$DEMO_DIR/vkeys.txt" --quorum 3
echo "== done: the sample log is in $DEMO_DIR (receipts of a few synthetic recipients in $DEMO_DIR/demo-receipts.txt)"
