#!/usr/bin/env bash
# Installs what the network-namespace tests need beyond iproute2 (tests/tests/chaos.rs): iptables,
# for link delay and loss on kernels without netem (testnet/src/shaper.rs). Idempotent. Run as
# root on Debian.
set -euo pipefail
if ! command -v iptables-legacy > /dev/null && ! command -v iptables > /dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y iptables
fi
