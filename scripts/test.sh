#!/usr/bin/env bash
# The README's test command; CI runs exactly this (.ci/run). Everything it needs comes from
# crates.io, npm and Debian's packages (Chromium, for the browser tests; iptables, for link
# faults in network namespaces; cargo-deb and systemd-analyze, for the Debian package). Order:
# cheap checks first, so a formatting slip fails in seconds. Where the time goes, and why the
# build is laid out as it is: docs/BENCHMARKS.md, "The test command".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$1" $((SECONDS - start)); }

step "format"
cargo fmt --all --check
step "dependency purity"
bash scripts/check-purity.sh
# The citizen's page (verifier/web): Debian's Chromium and the pinned npm packages; the committed
# one-file page must be what its sources build; its JavaScript must pass every golden vector and
# its own end-to-end runs in headless Chromium.
step "network test tools"
bash scripts/install-net-test-deps.sh
step "browser pages"
bash scripts/install-web-test-deps.sh
(cd verifier/web && node build.mjs --check && npm test)

# One build serves the lints and the tests. Clippy's driver compiles the workspace's own crates
# (every target: libraries, binaries, tests, examples, benchmarks) with Clippy's lints and
# warnings denied, exactly as `cargo clippy --workspace --all-targets -- -D warnings` would check
# them, and its output is the test build itself; the dependencies are compiled once, by rustc,
# instead of once checked for Clippy and once built for the tests. No incremental state: it only
# costs time in a build that starts clean.
export CARGO_INCREMENTAL=0
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "build and lint every target (test profile)"
cargo test --workspace --all-targets --locked --no-run --timings
# The plain binaries that the end-to-end tests run as processes (tests/src/lib.rs), from the
# same dependency builds: `--all-targets` keeps the dev-dependencies in the feature resolution
# (`--bins` alone would resolve the features without them and compile every dependency again).
cargo build --workspace --all-targets --profile test --locked

# Every fuzz target must build (running them is described in docs/FUZZING.md). The fuzz crate is
# a workspace of its own (libFuzzer); it builds at the lowest priority while the tests run,
# which mostly wait on validators, and is waited for at the end. With the node's targets it
# compiles the node's dependency tree again (dev profile, ~5 min of CPU cold), so it usually
# outlasts the tests.
mkdir -p target
fuzz_log=target/fuzz-build.log
(env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS nice -n 19 \
  cargo build --manifest-path fuzz/Cargo.toml --locked --bins >"$fuzz_log" 2>&1) &
fuzz_pid=$!

step "tests"
# cargo-nextest runs the test binaries side by side (the end-to-end tests use separate port
# ranges); without it, cargo test runs them one after another.
tests_status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast || tests_status=$?
  cargo test --workspace --doc --locked || tests_status=$?
else
  echo "cargo-nextest not found: running the tests one binary at a time"
  cargo test --workspace --locked --no-fail-fast || tests_status=$?
fi

# The deterministic simulator (docs/RELIABILITY.md): a few hundred seeds, every invariant
# (safety and progress) with 4 honest validators, with f Byzantine validators among 4 and among
# 7; then validator-set changes voted on the log (issue #14: a validator added, whose node
# joins with an empty store, one removed, one given a new key, one given more power, a change
# voted while the network is split, a Byzantine validator voting twice, three changes in a row),
# every validator following the roster of each height. The test-profile binary built above.
step "simulator seeds"
sim_status=0
sim=${CARGO_TARGET_DIR:-target}/debug/bansos-sim
"$sim" --seeds 300 || sim_status=$?
"$sim" --seeds 150 --validators 4 --byzantine 1 || sim_status=$?
"$sim" --seeds 50 --validators 7 --byzantine 2 || sim_status=$?
governance() { "$sim" --governance "$@" || sim_status=$?; }
governance add --seeds 40
governance remove --seeds 40 --validators 5
governance rotate --seeds 40
governance power --seeds 20 --validators 6
governance race --seeds 40
governance double-vote --seeds 40 --byzantine 1
governance chain --seeds 30 --validators 5 --byzantine 1

step "fuzz targets build"
fuzz_status=0
wait "$fuzz_pid" || fuzz_status=$?
if [ "$fuzz_status" -ne 0 ]; then
  cat "$fuzz_log"
  echo "FAIL: the fuzz targets do not build"
fi

# The Debian package of a validator host (docs/OPERATIONS.md, "Running a validator on its own
# host"): built in release mode (a build of its own: nothing is shared with the test build),
# installed, started from its packaged configuration, purged. Without Clippy's driver, so that
# it is the same build as `cargo deb` by hand.
step "Debian package"
deb_status=0
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS bash scripts/test-deb.sh || deb_status=$?
step "done"
[ "$tests_status" -eq 0 ] && [ "$sim_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ] &&
  [ "$deb_status" -eq 0 ]
