#!/usr/bin/env bash
# Proves the trust base and the ledger rules do no I/O by construction: their normal
# (non-dev) dependency trees hold no async runtime, web framework, networking, storage engine,
# HTTP client or random source. A positive control checks the grep can see such crates at all.
set -euo pipefail
cd "$(dirname "$0")/.."
FORBIDDEN='^(tokio|axum|hyper|tower|libp2p|redb|sled|ureq|reqwest|mio|socket2|getrandom|rand) '
status=0
for crate in bansos-verifier bansos-ledger bansos-genesis; do
  found=$(cargo tree --locked -e normal -p "$crate" --prefix none | grep -E "$FORBIDDEN" | sort -u || true)
  if [ -n "$found" ]; then
    echo "FAIL: $crate depends on I/O crates:"; echo "$found"; status=1
  else
    echo "ok: $crate has no tokio, axum, libp2p, redb, HTTP client or random source"
  fi
done
# Positive control: the node does pull tokio, axum and redb, so the check is not vacuous.
control=$(cargo tree --locked -e normal -p bansos-node --prefix none | grep -cE '^(tokio|axum|redb) ' || true)
if [ "$control" -lt 3 ]; then echo "FAIL: control check did not see tokio/axum/redb under bansos-node"; status=1; fi
# The validator operators build (`cargo build --release -p bansos-node`) has no Byzantine test
# code: the feature `byzantine` is switched on only by bansos-tests' dev-dependency. Positive
# control: with the feature, the tree has it.
byz='^arc-malachitebft-engine-byzantine '
if cargo tree --locked -e normal -p bansos-node --prefix none | grep -qE "$byz"; then
  echo "FAIL: bansos-node pulls arc-malachitebft-engine-byzantine without the feature"; status=1
elif ! cargo tree --locked -e normal -p bansos-node --features byzantine --prefix none | grep -qE "$byz"; then
  echo "FAIL: control check did not see arc-malachitebft-engine-byzantine with --features byzantine"; status=1
else
  echo "ok: bansos-node has no Byzantine test code unless built with --features byzantine"
fi
exit $status
