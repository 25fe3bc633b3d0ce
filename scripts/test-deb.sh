#!/usr/bin/env bash
# The Debian package of a validator host, end to end (docs/OPERATIONS.md, "Running a validator on
# its own host"): builds it with cargo-deb (release profile), installs it with dpkg, checks its
# systemd unit with `systemd-analyze verify`, the user, the file modes and the binaries, then
# starts the installed node as its unit would (the ExecStart line, as the unit's user, with no
# new privileges and no capabilities, the root file system read-only but for the unit's
# ReadWritePaths, a private /tmp) from the packaged /etc/bansos/node.toml, with one validator's
# genesis and key of a local four-member network in place. Alone of four it decides no block;
# the test is that the installed node starts and answers on its HTTP API. Then it stops the node
# with SIGTERM and purges the package.
#
# It leaves nothing behind, pass or fail: the node, the package, the user bansos, /etc/bansos and
# /var/lib/bansos go. So it refuses to run where any of them was there before. Run as root on
# Debian; systemd need not be running (CI containers have no systemd as PID 1), and what is
# missing is installed: cargo-deb (pinned) from crates.io, systemd-analyze, curl and adduser from
# Debian. Respects CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n== deb: %s (%ds)\n' "$1" $((SECONDS - start)); }
fail() {
  printf 'FAIL (scripts/test-deb.sh): %s\n' "$*" >&2
  exit 1
}
# A command that fails where no check expected it still says where.
trap 'printf "FAIL (scripts/test-deb.sh): line %s: %s exited %s\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
CARGO_DEB_VERSION=3.8.0
UNIT=/usr/lib/systemd/system/bansos-node.service
CONFIG=/etc/bansos/node.toml
BINARIES=(bansos-node bansos-genesis bansos-client bansos-verify bansos-audit bansos-witness)
# The four members' peer-to-peer ports (only the first listens); away from the end-to-end tests'.
P2P_PORT=28790

step "preconditions"
[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges a Debian package"
if dpkg-query -W bansos-node >/dev/null 2>&1; then
  fail "dpkg knows a package bansos-node on this machine; this test installs and purges its own: run it where bansos-node was never installed, or purge it first (dpkg --purge bansos-node)"
fi
getent passwd bansos >/dev/null && fail "a user bansos exists already; this test creates and removes its own"
getent group bansos >/dev/null && fail "a group bansos exists already; this test creates and removes its own"
for path in /etc/bansos /var/lib/bansos; do
  [ -e "$path" ] && fail "$path exists already; this test creates and removes its own"
done

# From here on, whatever the test made is undone on exit, pass or fail.
work=$(mktemp -d /tmp/bansos-deb-test.XXXXXX)
node_pid=
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if dpkg-query -W bansos-node >/dev/null 2>&1; then
    dpkg --purge bansos-node >/dev/null 2>&1 || echo "cleanup: dpkg --purge bansos-node failed" >&2
  fi
  if getent passwd bansos >/dev/null; then userdel bansos || echo "cleanup: userdel bansos failed" >&2; fi
  if getent group bansos >/dev/null; then groupdel bansos || echo "cleanup: groupdel bansos failed" >&2; fi
  rm -rf /etc/bansos /var/lib/bansos "$work"
}
trap cleanup EXIT

step "tools"
if ! cargo deb --version 2>/dev/null | grep -qF " $CARGO_DEB_VERSION"; then
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked ||
    fail "could not install cargo-deb $CARGO_DEB_VERSION from crates.io"
fi
missing=()
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v curl >/dev/null || missing+=(curl)
command -v adduser >/dev/null || missing+=(adduser)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
    fail "could not install ${missing[*]} with apt-get"
fi

step "build the package (cargo deb, release profile)"
# cargo-deb builds every `target/release/<bin>` asset of node/Cargo.toml in one `cargo build
# --release --workspace --bin=...` into CARGO_TARGET_DIR (default target/), and prints the
# package's path last. --fast: the same files, compressed by a lighter xz (~20 s instead of ~2
# min for ~300 MB of binaries that keep their line tables).
target=${CARGO_TARGET_DIR:-target}
deb=$(cargo deb -p bansos-node --locked --fast --output "$target/debian/" | tail -n 1) ||
  fail "cargo deb -p bansos-node failed (its output is above)"
[ -f "$deb" ] || fail "cargo deb did not say where it wrote the package (its last line: '$deb')"
echo "$deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\):/  &/p'
dpkg-deb --contents "$deb" | awk '{print "  " $1, $2, $6}'

step "install (dpkg -i)"
# Where the package and its scripts may leave files; compared after the purge.
touched=(/etc /usr/bin /usr/lib/systemd /usr/share/doc /var/lib/systemd /var/lib/bansos)
traces() { { find "${touched[@]}" -name '*bansos*' 2>/dev/null || true; } | sort; }
before=$(traces)
dpkg -i "$deb" || fail "dpkg -i $deb failed"
[ "$(dpkg-query -W -f '${Status}' bansos-node)" = "install ok installed" ] ||
  fail "dpkg does not list bansos-node as installed"
dpkg-query -W -f '${Conffiles}\n' bansos-node | grep -q "^ $CONFIG " ||
  fail "$CONFIG is not a conffile of the package (an upgrade would overwrite the operator's edits)"

step "systemd-analyze verify the installed unit"
# Once installed, as systemd would load it: its ExecStart binary and its user exist only then.
if ! out=$(systemd-analyze verify "$UNIT" 2>&1) || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  fail "systemd-analyze verify refuses or warns about the unit (packaging/debian/bansos-node.service)"
fi
echo "ok: $UNIT"

step "the user bansos, the file modes, the binaries"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd bansos) ||
  fail "the package did not create the user bansos (packaging/debian/postinst)"
[ "$uid" -lt 1000 ] || fail "bansos is not a system user (uid $uid)"
[ "$home" = /var/lib/bansos ] || fail "bansos's home is $home, not /var/lib/bansos"
[ "$shell" = /usr/sbin/nologin ] || fail "bansos's shell is $shell, not /usr/sbin/nologin"
# path, then `stat -c '%a %U:%G'` as the package must leave it.
check_mode() {
  local got
  got=$(stat -c '%a %U:%G' "$1" 2>/dev/null) || fail "$1 is missing after dpkg -i"
  [ "$got" = "$2" ] || fail "$1 is $got, not $2"
}
for b in "${BINARIES[@]}"; do check_mode "/usr/bin/$b" "755 root:root"; done
check_mode "$UNIT" "644 root:root"
check_mode /etc/bansos "755 root:root"
check_mode "$CONFIG" "644 root:root"
check_mode /var/lib/bansos "750 bansos:bansos"
check_mode /var/lib/bansos/keys "700 bansos:bansos"
check_mode /var/lib/bansos/data "700 bansos:bansos"
for b in "${BINARIES[@]}"; do
  setpriv --reuid=bansos --regid=bansos --init-groups "/usr/bin/$b" --help >/dev/null ||
    fail "/usr/bin/$b --help failed (as the user bansos)"
done
echo "ok: ${BINARIES[*]} run"
# The validator operators run has no Byzantine test code (ARCHITECTURE.md): cargo-deb builds the
# whole workspace's features, so check the packaged binary refuses a [byzantine] section.
printf 'genesis = "g"\nkey = "k"\ndata_dir = "d"\nhttp_listen = "127.0.0.1:1"\n[byzantine]\nseed = 1\n' \
  >"$work/byzantine.toml"
if out=$(/usr/bin/bansos-node --config "$work/byzantine.toml" 2>&1) ||
  ! grep -q "no Byzantine test support" <<<"$out"; then
  printf '%s\n' "$out" >&2
  fail "the packaged bansos-node does not refuse a [byzantine] section: it was built with the test feature"
fi
echo "ok: the packaged bansos-node has no Byzantine test code"

step "a local four-member network; kemensos's genesis and key where $CONFIG expects them"
members=""
port=$P2P_PORT
for m in kemensos:ministry kemenkeu:ministry bri:bank pos:bank; do
  members+="[[members]]
name = \"${m%:*}\"
display_name = \"${m%:*}\"
role = \"${m#*:}\"
voting_power = 1
host = \"127.0.0.1\"
p2p_port = $port
"
  port=$((port + 1))
done
printf 'network_name = "Bansos Ledger package test"\norigin = "ledger.bansos.example/package-test"\n%s' \
  "$members" >"$work/network.toml"
/usr/bin/bansos-genesis new --config "$work/network.toml" --out "$work/net" ||
  fail "the packaged bansos-genesis could not make a local network"
setting() { sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "$CONFIG"; }
genesis_path=$(setting genesis)
key_path=$(setting key)
http_listen=$(setting http_listen)
if [ -z "$genesis_path" ] || [ -z "$key_path" ] || [ -z "$http_listen" ]; then
  fail "$CONFIG does not set genesis, key and http_listen"
fi
install -o root -g root -m 0644 "$work/net/genesis.json" "$genesis_path"
install -o bansos -g bansos -m 0600 "$work/net/keys/kemensos.key" "$key_path"
echo "genesis $genesis_path, key $key_path (0600 bansos), API $http_listen"
for addr in "$http_listen" "127.0.0.1:$P2P_PORT"; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
    fail "something already listens on $addr: stop it (a demo testnet?) and run again"
  fi
done

step "start the installed node as its unit would"
unit_setting() { sed -n "s/^$1=//p" "$UNIT"; }
exec_start=$(unit_setting ExecStart)
user=$(unit_setting User)
writable=$(unit_setting ReadWritePaths)
environment=$(unit_setting Environment)
umask_=$(unit_setting UMask)
if [ -z "$exec_start" ] || [ -z "$user" ] || [ -z "$writable" ]; then
  fail "$UNIT has no ExecStart, User or ReadWritePaths line"
fi
echo "$exec_start (user $user; writable: $writable)"
# A mount namespace of its own: the unit's ReadWritePaths stay writable, the root file system
# becomes read-only (ProtectSystem=strict), /tmp is empty (PrivateTmp). Then the unit's user,
# no new privileges, no capabilities (NoNewPrivileges, CapabilityBoundingSet=).
# The inner shell splits the unit's lists on spaces, as systemd does.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- /bin/sh -c '
  set -e
  for path in $1; do mount --bind "$path" "$path"; done
  mount -o remount,bind,ro /
  mount -t tmpfs -o mode=1777 tmpfs /tmp
  umask "$2"
  exec setpriv --reuid="$3" --regid="$3" --init-groups --no-new-privs \
    --bounding-set=-all --inh-caps=-all -- env $4 $5
' sh "$writable" "${umask_:-0022}" "$user" "$environment" "$exec_start" >"$work/node.log" 2>&1 &
node_pid=$!
network_id=$(sha256sum "$genesis_path" | cut -d' ' -f1)
status=
for _ in $(seq 1 120); do
  if ! kill -0 "$node_pid" 2>/dev/null; then
    cat "$work/node.log" >&2
    fail "the installed node exited at start-up (its log is above)"
  fi
  status=$(curl -fsS --max-time 2 "http://$http_listen/v1/status" 2>/dev/null) && break
  sleep 0.5
done
[ -n "$status" ] || {
  cat "$work/node.log" >&2
  fail "the installed node did not answer on http://$http_listen/v1/status within 60 s (its log is above)"
}
echo "GET /v1/status: $status"
grep -q '"name":"kemensos"' <<<"$status" || fail "/v1/status does not name the member kemensos"
grep -q "\"network_id\":\"$network_id\"" <<<"$status" ||
  fail "/v1/status does not carry the network id of $genesis_path"
[ "$(curl -fsS --max-time 2 "http://$http_listen/healthz")" = ok ] || fail "/healthz does not answer ok"
[ "$(stat -c %U "/proc/$node_pid")" = "$user" ] || fail "the node does not run as $user"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$node_pid/status" || fail "the node may gain privileges"
grep -q '^CapBnd:[[:space:]]*0*$' "/proc/$node_pid/status" || fail "the node's capability bounding set is not empty"
got=$(stat -c '%a %U' /var/lib/bansos/data/ledger.redb 2>/dev/null) ||
  fail "the node made no store in /var/lib/bansos/data"
[ "$got" = "600 $user" ] || fail "the store is $got, not 600 $user (UMask=)"
echo "ok: runs as $user, no new privileges, no capabilities; its store is its own"

step "stop it (SIGTERM)"
kill -TERM "$node_pid"
for _ in $(seq 1 60); do
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$node_pid" 2>/dev/null; then
  cat "$work/node.log" >&2
  fail "the node did not stop within 30 s of SIGTERM (its log is above)"
fi
code=0
wait "$node_pid" || code=$?
node_pid=
[ "$code" -eq 0 ] || {
  cat "$work/node.log" >&2
  fail "the node stopped with exit code $code after SIGTERM, not 0 (its log is above)"
}
echo "ok: stopped cleanly"

step "purge (dpkg --purge) and remove what the test made"
dpkg --purge bansos-node || fail "dpkg --purge bansos-node failed"
for path in "${BINARIES[@]/#//usr/bin/}" "$UNIT" "$CONFIG"; do
  [ -e "$path" ] && fail "$path is still there after dpkg --purge"
done
# The purge keeps the key, the signing record and the store, and the user (packaging/debian/postrm).
[ -f "$key_path" ] || fail "dpkg --purge removed the key $key_path: a purge must keep it"
userdel bansos || fail "userdel bansos failed"
if getent group bansos >/dev/null; then groupdel bansos || fail "groupdel bansos failed"; fi
rm -rf /etc/bansos /var/lib/bansos
leftovers=$(
  getent passwd bansos || true
  getent group bansos || true
  dpkg-query -W bansos-node 2>/dev/null || true
  pgrep -af '^/usr/bin/bansos-' || true
  comm -13 <(printf '%s\n' "$before") <(traces)
)
[ -z "$leftovers" ] || fail "left behind: $leftovers"
echo "ok: nothing left"
step "done"
