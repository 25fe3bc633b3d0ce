#!/usr/bin/env bash
# One load level against a running testnet (docs/BENCHMARKS.md, "The validator network"):
# `bansos-testnet load` reports committed tx/s and commit latency; this script adds the CPU time
# the validators spent, read from /proc, per committed entry.
#   usage: scripts/bench-network.sh <testnet dir> <rate|max> <seconds>
set -euo pipefail
DIR=$1 RATE=$2 DUR=$3
BIN=${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/release
PIDS=$(grep -o '"pid": *[0-9]*' "$DIR/testnet.json" | grep -o '[0-9]*$')
FIRST=$(grep -o '"http": *"[^"]*"' "$DIR/testnet.json" | head -n 1 | cut -d'"' -f4)
HZ=$(getconf CLK_TCK)

cpu_ticks() { for p in $PIDS; do awk '{print $14 + $15}' "/proc/$p/stat"; done | paste -sd+ | bc; }
log_size() { curl -s "$FIRST/v1/status" | grep -o '"log_size":[0-9]*' | cut -d: -f2; }

c0=$(cpu_ticks) s0=$(log_size)
/usr/bin/time -f "loader CPU: %U s user, %S s system" \
    "$BIN/bansos-testnet" load --dir "$DIR" --rate "$RATE" --duration "$DUR" 2>&1 |
    grep -E "submitted|committed|busy|latency|loader CPU"
sleep 3
c1=$(cpu_ticks) s1=$(log_size)
echo "validators' CPU: $(echo "scale=1; ($c1 - $c0) / $HZ" | bc) s for $((s1 - s0)) entries committed" \
    "= $(echo "scale=1; ($c1 - $c0) * 1000000 / $HZ / ($s1 - $s0) / 4" | bc) µs per entry per validator"
