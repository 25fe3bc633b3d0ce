//! A Bansos Ledger log whose validators changed twice, for the CLI tests: a trust policy of
//! four genesis validators `v0`..`v3`, a member `v4` added by their votes (epoch 1), then `v3`'s
//! key rotated by the votes of epoch 1 (epoch 2); the votes are entries of the log, the other
//! entries opaque test bytes; the key history links both changes with the first checkpoint of
//! each epoch. Keys come from fixed seeds.

use bansos_verifier::entry::{Leaf, MemberId, NetworkId, SignedTx, TxBody};
use bansos_verifier::governance::{
    Change, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRotation, Link, NewMember, Role, Vote,
};
use bansos_verifier::hash::leaf_hash;
use ed25519_dalek::SigningKey;

use super::builder::{ORIGIN, Signer, TestLog, entry, signed_checkpoint};

/// The test network's id.
pub const NET: NetworkId = NetworkId([7; 32]);
/// Member names, by id.
const NAMES: [&str; 5] = ["v0", "v1", "v2", "v3", "v4"];
/// Seed of `v3`'s key after the rotation.
const ROTATED_SEED: u8 = 0x4d;

/// Member `i` with its first key.
pub fn member(i: usize) -> Signer {
    Signer::new(NAMES[i], 0x40 + i as u8)
}

/// `v3` with its key of epoch 2.
pub fn rotated_v3() -> Signer {
    Signer::new("v3", ROTATED_SEED)
}

/// The trust policy of the genesis: `v0`..`v3`, 3 of them must sign.
pub fn policy_json() -> String {
    let keys: Vec<String> = (0..4).map(|i| format!("{:?}", member(i).vkey())).collect();
    let members: Vec<String> = (0..4)
        .map(|i| {
            format!(
                r#"{{"id":{i},"name":"{}","display_name":"Validator {i}","role":"bank"}}"#,
                NAMES[i]
            )
        })
        .collect();
    format!(
        r#"{{"format":"bansos-ledger/trust-policy@v1","network_name":"cli test","network_id":"{}","origin":"{ORIGIN}","quorum":3,"verifier_keys":[{}],"members":[{}]}}"#,
        hex(&NET.0),
        keys.join(","),
        members.join(",")
    )
}

/// Change 1: `v4` joins as a validator.
pub fn add_v4() -> Change {
    Change::AddMember(NewMember {
        name: "v4".into(),
        display_name: "Validator 4".into(),
        role: Role::Bank,
        public_key: member(4).key.verifying_key().to_bytes(),
        p2p_address: "/ip4/127.0.0.1/tcp/1".into(),
        voting_power: 1,
    })
}

/// Change 2: `v3`'s key is rotated (signed by the new key and the old).
pub fn rotate_v3() -> Change {
    Change::RotateKey(KeyRotation::sign(
        &NET,
        MemberId(3),
        &rotated_v3().key,
        Some(&member(3).key),
    ))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `signer`'s vote for `change` in `epoch`, signed with `key`.
pub fn vote(epoch: u64, change: &Change, signer: usize, key: &SigningKey) -> SignedTx {
    let body = TxBody::Vote(Vote {
        epoch,
        change: change.clone(),
    });
    SignedTx::sign(&NET, MemberId(signer as u16), body, key).unwrap()
}

/// Where the votes of each change are in the log: (leaf index, voter); the last one approves.
pub const VOTES_1: [(u64, usize); 3] = [(100, 0), (200, 1), (299, 2)];
/// The votes of change 2, in epoch 1.
pub const VOTES_2: [(u64, usize); 4] = [(500, 0), (600, 1), (700, 2), (799, 4)];
/// Where epoch 1 starts: right after its approving vote.
pub const START_1: u64 = 300;
/// Where epoch 2 starts.
pub const START_2: u64 = 800;

/// The log, its key history and the checkpoint of its whole size signed by epoch 2.
pub struct Governed {
    /// The entries: opaque test bytes, and the votes as leaves.
    pub log: TestLog,
    /// The key history the nodes serve.
    pub history: KeyHistoryFile,
    /// The checkpoint of the whole log, signed by `v1`, `v2`, `v3` (rotated key) and `v4`.
    pub checkpoint: Vec<u8>,
}

impl Governed {
    /// A log of `size` (at least [`START_2`]) entries whose validators changed twice.
    pub fn new(size: u64) -> Governed {
        Governed::with(size, |_| {})
    }

    /// The same, with `edit` applied to the entries before anything is signed.
    pub fn with(size: u64, edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> Governed {
        assert!(size >= START_2);
        let mut entries: Vec<Vec<u8>> = (0..size).map(entry).collect();
        let (one, two) = (add_v4(), rotate_v3());
        let votes_1: Vec<SignedTx> = VOTES_1
            .iter()
            .map(|&(_, i)| vote(0, &one, i, &member(i).key))
            .collect();
        let votes_2: Vec<SignedTx> = VOTES_2
            .iter()
            .map(|&(_, i)| vote(1, &two, i, &member(i).key))
            .collect();
        let placed = VOTES_1
            .iter()
            .zip(&votes_1)
            .chain(VOTES_2.iter().zip(&votes_2));
        for (&(index, _), tx) in placed {
            entries[index as usize] = Leaf {
                height: index,
                block_time: 1_800_000_000 + index,
                tx: tx.clone(),
            }
            .encode();
        }
        edit(&mut entries);
        let leaves = entries.iter().map(|e| leaf_hash(e)).collect();
        let log = TestLog { entries, leaves };
        let sign = |size: u64, signers: &[Signer]| {
            let refs: Vec<&Signer> = signers.iter().collect();
            String::from_utf8(signed_checkpoint(size, log.root(size), &refs)).unwrap()
        };
        let link = |epoch: u64, change: &Change, votes: &[SignedTx], checkpoint: String| Link {
            epoch,
            change: hex(&change.to_bytes()),
            votes: votes.iter().map(|t| hex(&t.encode())).collect(),
            checkpoint,
        };
        let history = KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            network_id: Some(NET),
            links: vec![
                link(
                    1,
                    &one,
                    &votes_1,
                    sign(START_1, &[member(0), member(1), member(2), member(4)]),
                ),
                link(
                    2,
                    &two,
                    &votes_2,
                    sign(START_2, &[member(0), member(1), member(2), rotated_v3()]),
                ),
            ],
        };
        let checkpoint = sign(size, &[member(1), member(2), rotated_v3(), member(4)]).into_bytes();
        Governed {
            log,
            history,
            checkpoint,
        }
    }

    /// The key history as a node serves it.
    pub fn history_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.history).unwrap()
    }
}
