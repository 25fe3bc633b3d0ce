#!/usr/bin/env bash
# The README's test command; CI runs exactly this (.ci/run). Everything it needs comes from
# crates.io, npm and Debian's packages (Chromium, for the browser test). Order: cheap checks
# first, so a formatting slip fails in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
# The citizen's page (verifier/web): Debian's Chromium and the pinned npm packages; the committed
# one-file page must be what its sources build; its JavaScript must pass every golden vector and
# its own end-to-end run in headless Chromium.
bash scripts/install-web-test-deps.sh
(cd verifier/web && node build.mjs --check && npm test)
cargo clippy --workspace --all-targets --locked -- -D warnings
bash scripts/check-purity.sh
cargo test --workspace --locked
# Every fuzz target must build (running them is described in docs/FUZZING.md).
cargo build --manifest-path fuzz/Cargo.toml --locked --bins
