//! What a local testnet looks like on disk and on 127.0.0.1: its port plan, each validator's
//! `node.toml`, and `testnet.json`, the description every other command (and the end-to-end
//! tests) read. Pure: rendering and parsing only, the binary does the I/O.
//!
//! ```text
//! DIR/genesis.json            the network (its SHA-256 is the network id)
//! DIR/vkeys.txt               each validator's C2SP note verifier key, one per line
//! DIR/policy.json             the citizen verifier's trust policy (docs/VERIFY.md)
//! DIR/keys/<name>.key         each member's private key, mode 0600 (as bansos-genesis writes)
//! DIR/keys/<ministry>.dedup-key
//! DIR/<name>/node.toml        the validator's configuration (paths relative to it)
//! DIR/<name>/data/            its ledger.redb and consensus WAL
//! DIR/<name>/node.log         its stdout and stderr
//! DIR/testnet.json            URLs, pids, paths, quorum
//! DIR/demo-receipts.txt       receipts of a few demo allocations (with --demo)
//! DIR/load-<time>.json        reports of `bansos-testnet load`
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The description of a running (or stopped) testnet, `DIR/testnet.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestnetFile {
    /// Validator signatures a checkpoint needs (more than two thirds of the voting power).
    pub quorum: usize,
    /// Absolute path of `vkeys.txt`.
    pub vkeys: PathBuf,
    /// The validators, in member order.
    pub nodes: Vec<NodeEntry>,
    /// Absolute path of `genesis.json`.
    pub genesis: PathBuf,
    /// The network id, hex.
    pub network_id: String,
    /// The `bansos-node` executable the nodes were started with (`start` uses it again).
    pub node_bin: PathBuf,
    /// With `up --netns`: the namespaces the validators run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<NetnsLayout>,
}

/// Where the validators of a `up --netns` testnet sit: one network namespace each, joined by a
/// bridge in the root namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetnsLayout {
    /// The bridge, in the root namespace.
    pub bridge: String,
    /// The bridge's address: where the load tool and the chaos command send from.
    pub host_ip: String,
    /// Each validator's namespace, in member order.
    pub namespaces: Vec<String>,
    /// Each validator's veth end on the bridge.
    pub veths: Vec<String>,
    /// Each validator's address.
    pub ips: Vec<String>,
}

/// One validator of a [`TestnetFile`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Member name, e.g. `kemensos`.
    pub name: String,
    /// Base URL of its HTTP API, `http://127.0.0.1:<port>`.
    pub http: String,
    /// Its peer-to-peer address, a multiaddr.
    pub p2p: String,
    /// Process id of its latest start.
    pub pid: u32,
    /// Absolute path of its data directory.
    pub data_dir: PathBuf,
    /// Absolute path of its `node.toml`.
    pub config: PathBuf,
    /// Absolute path of the file receiving its stdout and stderr.
    pub log: PathBuf,
}

impl TestnetFile {
    /// The file name inside a testnet directory.
    pub const FILE_NAME: &str = "testnet.json";

    /// Pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a testnet description serializes");
        v.push(b'\n');
        v
    }

    /// Parses `testnet.json`.
    pub fn from_bytes(bytes: &[u8]) -> Result<TestnetFile, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// A validator by member name.
    pub fn node(&self, name: &str) -> Option<&NodeEntry> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The member names, comma-separated, for messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        names.join(", ")
    }
}

/// Distance between the HTTP ports and the peer-to-peer ports of a testnet.
pub const P2P_PORT_OFFSET: u16 = 100;

/// Ports of a testnet on 127.0.0.1: validator `i` serves HTTP on `base + i` and peer-to-peer
/// on `base + 100 + i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortPlan {
    base: u16,
    validators: u16,
}

impl PortPlan {
    /// The plan for `validators` validators from `base`, if every port fits below 65536 and
    /// the two ranges do not overlap.
    pub fn new(base: u16, validators: usize) -> Option<PortPlan> {
        let validators = u16::try_from(validators).ok()?;
        if base == 0 || validators == 0 || validators > P2P_PORT_OFFSET {
            return None;
        }
        base.checked_add(P2P_PORT_OFFSET)?
            .checked_add(validators - 1)?;
        Some(PortPlan { base, validators })
    }

    /// HTTP port of validator `i`.
    pub fn http(&self, i: usize) -> u16 {
        assert!(i < usize::from(self.validators), "validator index");
        self.base + i as u16
    }

    /// Peer-to-peer port of validator `i`.
    pub fn p2p(&self, i: usize) -> u16 {
        self.http(i) + P2P_PORT_OFFSET
    }

    /// First peer-to-peer port (validator 0's).
    pub fn p2p_base(&self) -> u16 {
        self.base + P2P_PORT_OFFSET
    }

    /// Every port of the plan, HTTP first.
    pub fn all(&self) -> Vec<u16> {
        let n = usize::from(self.validators);
        (0..n)
            .map(|i| self.http(i))
            .chain((0..n).map(|i| self.p2p(i)))
            .collect()
    }
}

/// The HTTP base URL of a port on 127.0.0.1.
pub fn http_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// What a validator's `node.toml` says.
pub struct NodeToml<'a> {
    /// Member name, for the comment.
    pub name: &'a str,
    /// `genesis.json`, relative to the file's folder.
    pub genesis: &'a Path,
    /// The member's key file, relative to the file's folder.
    pub key: &'a Path,
    /// Data directory, relative to the file's folder.
    pub data_dir: &'a Path,
    /// The address the validator's HTTP API listens on (127.0.0.1, or its namespace's address).
    pub host: &'a str,
    /// HTTP port.
    pub http_port: u16,
    /// Peer-to-peer multiaddr to listen on.
    pub p2p_listen: &'a str,
    /// The other validators' HTTP base URLs.
    pub peer_http: &'a [String],
    /// Addresses the write limits trust: the other validators and the load tool.
    pub trusted_sources: &'a [String],
    /// For a validator admitted by governance (not in genesis): its member id and the
    /// peer-to-peer addresses of the validators to dial.
    pub joining: Option<(u16, &'a [String])>,
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn toml_path(p: &Path) -> String {
    toml_string(&p.to_string_lossy())
}

impl NodeToml<'_> {
    /// The file's text, in the `bansos-node --config` format.
    pub fn render(&self) -> String {
        let peers: Vec<String> = self.peer_http.iter().map(|u| toml_string(u)).collect();
        let joining = match self.joining {
            None => String::new(),
            Some((id, p2p)) => format!(
                "# Admitted by governance, not in genesis: it says who it is and whom to dial.\n\
                 member_id = {id}\n\
                 p2p_peers = [{}]\n",
                p2p.iter()
                    .map(|p| toml_string(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "# bansos-node configuration of validator {name}, written by `bansos-testnet up`.\n\
             # Paths are relative to this file's folder.\n\
             genesis = {genesis}\n\
             key = {key}\n\
             data_dir = {data_dir}\n\
             http_listen = {http}\n\
             p2p_listen = {p2p}\n\
             # Transactions accepted here are forwarded to the other validators.\n\
             peer_http = [{peers}]\n\
             {joining}\
             \n\
             [write_limits]\n\
             # Not limited per address: the other validators forward, the load tool submits.\n\
             trusted_sources = [{trusted}]\n",
            name = self.name,
            genesis = toml_path(self.genesis),
            key = toml_path(self.key),
            data_dir = toml_path(self.data_dir),
            http = toml_string(&format!("{}:{}", self.host, self.http_port)),
            p2p = toml_string(self.p2p_listen),
            peers = peers.join(", "),
            trusted = self
                .trusted_sources
                .iter()
                .map(|t| toml_string(t))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TestnetFile {
        TestnetFile {
            quorum: 3,
            vkeys: "/tmp/tn/vkeys.txt".into(),
            nodes: vec![NodeEntry {
                name: "kemensos".into(),
                http: "http://127.0.0.1:8700".into(),
                p2p: "/ip4/127.0.0.1/tcp/8800".into(),
                pid: 4242,
                data_dir: "/tmp/tn/kemensos/data".into(),
                config: "/tmp/tn/kemensos/node.toml".into(),
                log: "/tmp/tn/kemensos/node.log".into(),
            }],
            genesis: "/tmp/tn/genesis.json".into(),
            network_id: "00".repeat(32),
            node_bin: "/usr/local/bin/bansos-node".into(),
            netns: None,
        }
    }

    #[test]
    fn testnet_json_round_trips_in_the_documented_shape() {
        let t = sample();
        let bytes = t.to_bytes();
        assert_eq!(TestnetFile::from_bytes(&bytes).unwrap(), t);
        // The shape other tools rely on: quorum, vkeys, nodes[].{name,http,p2p,pid,data_dir}.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["quorum"], 3);
        assert_eq!(v["vkeys"], "/tmp/tn/vkeys.txt");
        let node = &v["nodes"][0];
        assert_eq!(node["name"], "kemensos");
        assert_eq!(node["http"], "http://127.0.0.1:8700");
        assert_eq!(node["p2p"], "/ip4/127.0.0.1/tcp/8800");
        assert_eq!(node["pid"], 4242);
        assert_eq!(node["data_dir"], "/tmp/tn/kemensos/data");
        assert!(bytes.ends_with(b"}\n"));
        assert_eq!(t.node("kemensos").unwrap().pid, 4242);
        assert!(t.node("bri").is_none());
        assert!(TestnetFile::from_bytes(b"{\"quorum\": 3}").is_err());
    }

    #[test]
    fn port_plans_stay_in_range() {
        let p = PortPlan::new(8700, 4).unwrap();
        assert_eq!(
            (p.http(0), p.http(3), p.p2p(0), p.p2p(3)),
            (8700, 8703, 8800, 8803)
        );
        assert_eq!(p.p2p_base(), 8800);
        assert_eq!(p.all(), [8700, 8701, 8702, 8703, 8800, 8801, 8802, 8803]);
        assert!(PortPlan::new(65_435, 1).is_some());
        assert!(PortPlan::new(65_435, 2).is_none());
        assert!(PortPlan::new(0, 4).is_none());
        assert!(PortPlan::new(8700, 0).is_none());
        assert!(PortPlan::new(8700, 101).is_none());
    }

    #[test]
    fn node_toml_parses_back() {
        let peers = vec![
            "http://127.0.0.1:8701".to_string(),
            "http://127.0.0.1:8702".to_string(),
        ];
        let text = NodeToml {
            name: "kemensos",
            genesis: Path::new("../genesis.json"),
            key: Path::new("../keys/kemensos.key"),
            data_dir: Path::new("data \"quoted\""),
            host: "127.0.0.1",
            http_port: 8700,
            p2p_listen: "/ip4/127.0.0.1/tcp/8800",
            peer_http: &peers,
            trusted_sources: &["127.0.0.1".to_string()],
            joining: Some((5, &["/ip4/127.0.0.1/tcp/8801".to_string()])),
        }
        .render();
        let v: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(v["genesis"].as_str(), Some("../genesis.json"));
        assert_eq!(v["key"].as_str(), Some("../keys/kemensos.key"));
        assert_eq!(v["data_dir"].as_str(), Some("data \"quoted\""));
        assert_eq!(v["http_listen"].as_str(), Some("127.0.0.1:8700"));
        assert_eq!(
            v["write_limits"]["trusted_sources"][0].as_str(),
            Some("127.0.0.1")
        );
        assert_eq!(v["p2p_listen"].as_str(), Some("/ip4/127.0.0.1/tcp/8800"));
        let got: Vec<&str> = v["peer_http"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
            .collect();
        assert_eq!(got, peers);
        assert_eq!(v["member_id"].as_integer(), Some(5));
        assert_eq!(v["p2p_peers"][0].as_str(), Some("/ip4/127.0.0.1/tcp/8801"));
    }
}
