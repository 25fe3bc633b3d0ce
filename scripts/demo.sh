#!/usr/bin/env bash
# The README's main command: builds everything and brings up a live testnet of four validators
# (Kemensos, Kemenkeu, BRI, PT Pos) as separate bansos-node processes on 127.0.0.1, agreeing by
# Malachite consensus; submits demo transactions (allocations over the real kabupaten/kota codes
# in proportion to population, claims, returns, revocations) and waits until every validator has
# committed them. Meanwhile an auditor audits every validator's log with bansos-verify, as a
# journalist would, against a checkpoint signed by 3 of the 4 validators. The testnet stays in
# the foreground until Ctrl-C, which stops every validator.
#   DEMO_DIR (default ./demo), DEMO_TXS (default 2000), DEMO_BASE_PORT (default 8700: HTTP on
#   8700-8703, peer-to-peer on 8800-8803).
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_DIR=${DEMO_DIR:-demo}
DEMO_TXS=${DEMO_TXS:-2000}
DEMO_BASE_PORT=${DEMO_BASE_PORT:-8700}

# bansos-testnet finds bansos-node next to itself, so both are built into target/release.
cargo build --release --locked -p bansos-node -p bansos-testnet -p bansos-verify -p bansos-audit
BIN=${CARGO_TARGET_DIR:-target}/release

if [ -f "$DEMO_DIR/testnet.json" ]; then
    # A testnet left running by an earlier demo is stopped first (its pids are checked).
    "$BIN/bansos-testnet" down --dir "$DEMO_DIR" >/dev/null 2>&1 || true
fi
rm -rf "$DEMO_DIR"

# The auditor: once the demo is committed (demo-receipts.txt is written last), audit each
# validator's whole log from its public checkpoint, tiles and entry bundles.
audit() {
    for _ in $(seq 1 600); do
        [ -s "$DEMO_DIR/demo-receipts.txt" ] && break
        sleep 0.5
    done
    [ -s "$DEMO_DIR/demo-receipts.txt" ] || return 0
    sleep 1
    for url in $(grep -o '"http": *"[^"]*"' "$DEMO_DIR/testnet.json" | cut -d'"' -f4); do
        if out=$("$BIN/bansos-verify" log --url "$url" --keys-file "$DEMO_DIR/vkeys.txt" --quorum 3 2>&1); then
            echo "== audit of $url (quorum 3 of the 4 validator keys): $(echo "$out" | tail -n 1)"
        else
            echo "== audit of $url FAILED:"
            echo "$out" | tail -n 5
        fi
    done
    # The monitor a journalist leaves running: every validator's checkpoint, one story.
    local nodes
    nodes=$(grep -o '"http": *"[^"]*"' "$DEMO_DIR/testnet.json" | cut -d'"' -f4 | sed 's/^/--node /')
    # shellcheck disable=SC2086
    echo "== monitor: $("$BIN/bansos-audit" monitor --genesis "$DEMO_DIR/genesis.json" --state "$DEMO_DIR/monitor" --once $nodes 2>/dev/null | tail -n 1)"
    # A citizen checks their own aid: receipt code and NIK, against two validators, fetching whole
    # tiles only (the NIK never leaves this machine). Exit codes: docs/VERIFY.md.
    local urls
    urls=$(grep -o '"http": *"[^"]*"' "$DEMO_DIR/testnet.json" | cut -d'"' -f4 | head -n 2)
    grep -v '^#' "$DEMO_DIR/demo-receipts.txt" | head -n 2 | while read -r code nik; do
        echo "== a citizen checks receipt ${code:0:13}… (bansos-verify receipt):"
        # shellcheck disable=SC2046
        "$BIN/bansos-verify" receipt "$code" --nik "$nik" --policy "$DEMO_DIR/policy.json" \
            $(printf -- '--node %s ' $urls) 2>/dev/null | sed 's/^/   /' || true
    done
    echo "== the citizen's page: $(echo "$urls" | head -n 1)/verify (receipt codes and synthetic NIKs: $DEMO_DIR/demo-receipts.txt)"
    echo "== the public dashboard: $(echo "$urls" | head -n 1)/"
    echo "== Ctrl-C stops the testnet"
}
audit &
AUDITOR=$!
trap 'kill $AUDITOR 2>/dev/null || true' EXIT

cargo run --release --locked -q -p bansos-testnet -- up --validators 4 --dir "$DEMO_DIR" \
    --base-port "$DEMO_BASE_PORT" --demo "$DEMO_TXS"
