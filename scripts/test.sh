#!/usr/bin/env bash
# The README's test command; CI runs exactly this (.ci/run). Everything it needs comes from
# crates.io. Order: cheap checks first, so a formatting slip fails in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
bash scripts/check-purity.sh
cargo test --workspace --locked
# Every fuzz target must build (running them is described in docs/FUZZING.md).
cargo build --manifest-path fuzz/Cargo.toml --locked --bins
