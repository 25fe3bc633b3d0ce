//! Whose signatures make a checkpoint of the network's log, through its governance changes: the
//! genesis validators (epoch 0), then each approved change of a key history, checked link by
//! link from the genesis keys (`bansos_verifier::governance::KeyHistory`); a checkpoint is
//! checked against the validators of the epoch its size falls in. Shared by `monitor`,
//! `mirror` and `aggregates`. The history followed is kept beside their other files as
//! `key-history` (a node's `/key-history` document), so a mirror or a monitor's state verifies
//! again offline; it is written only once there is a change, so the files of a network without
//! changes stay as they were.
//!
//! A history that disagrees with the one followed so far, at an epoch both have, is never
//! followed: if it holds up on its own from the genesis keys, two changes were approved for
//! one epoch, and that is evidence ([`FollowError::Conflict`]).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use bansos_genesis::Network;
use bansos_verifier::checkpoint::{CheckpointError, VerifiedCheckpoint};
use bansos_verifier::entry::NetworkId;
use bansos_verifier::governance::{
    HistoryError, KEY_HISTORY_BYTES_MAX, KeyHistory, KeyHistoryFile, Link,
};
use bansos_verifier::note::VerifierKey;
use bansos_verify::keys;

/// The followed key history's file name, in a mirror and in the monitor's state.
pub const KEY_HISTORY_FILE: &str = "key-history";

/// The genesis validators and the changes followed since.
#[derive(Clone, Debug)]
pub struct Trust {
    network: NetworkId,
    origin: String,
    history: KeyHistory,
}

/// Two changes approved for one epoch: the link known and the other history's.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// The epoch both links start.
    pub epoch: u64,
    /// The link followed so far.
    pub known: Link,
    /// The other history's link.
    pub other: Link,
}

/// Why a key history was not followed.
#[derive(Debug)]
pub enum FollowError {
    /// It is not a key history, or a change in it does not follow from the one before.
    Refused(HistoryError),
    /// It disagrees with the history followed so far, and holds up from the genesis keys too.
    Conflict(Box<Conflict>),
}

impl From<HistoryError> for FollowError {
    fn from(e: HistoryError) -> FollowError {
        FollowError::Refused(e)
    }
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FollowError::Refused(e) => e.fmt(f),
            FollowError::Conflict(c) => write!(
                f,
                "it disagrees with the key history followed so far at epoch {}, and both carry the approving votes of the epoch before",
                c.epoch
            ),
        }
    }
}

impl Trust {
    /// The genesis validators of `network`.
    pub fn genesis(network: &Network) -> Trust {
        Trust {
            network: network.id,
            origin: network.genesis.origin.clone(),
            history: KeyHistory::new(network.genesis_roster()),
        }
    }

    /// Every roster followed, epoch 0 first.
    pub fn history(&self) -> &KeyHistory {
        &self.history
    }

    /// The latest epoch followed.
    pub fn epoch(&self) -> u64 {
        self.history.current().epoch
    }

    /// Follows a key history document (a node's `/key-history`): every change after the ones
    /// followed must be approved by the validators of the epoch before. Returns how many epochs
    /// it added (0 for a history that is not newer).
    pub fn follow(&mut self, bytes: &[u8]) -> Result<u64, FollowError> {
        if bytes.len() > KEY_HISTORY_BYTES_MAX {
            return Err(HistoryError::Malformed("larger than 4 MiB".into()).into());
        }
        let file: KeyHistoryFile =
            serde_json::from_slice(bytes).map_err(|e| HistoryError::Malformed(e.to_string()))?;
        let known = self.history.links();
        if let Some(i) = known.iter().zip(&file.links).position(|(a, b)| a != b) {
            // Does the other history hold up on its own, up to the link that differs?
            let mut other = KeyHistory::new(self.history.rosters()[0].clone());
            let prefix = KeyHistoryFile {
                links: file.links[..=i].to_vec(),
                ..file.clone()
            };
            other.follow_file(&self.network, &self.origin, &prefix)?;
            return Err(FollowError::Conflict(Box::new(Conflict {
                epoch: known[i].epoch,
                known: known[i].clone(),
                other: file.links[i].clone(),
            })));
        }
        let before = self.epoch();
        self.history
            .follow_file(&self.network, &self.origin, &file)?;
        Ok(self.epoch() - before)
    }

    /// Checks a checkpoint note: this log's origin and a quorum of the validators of the epoch
    /// its size falls in (witness cosignatures are not asked for).
    pub fn verify(&self, note: &[u8]) -> Result<VerifiedCheckpoint, CheckpointError> {
        self.history
            .verify_checkpoint(note, Some(&self.origin), false)
    }

    /// Whether a checkpoint calls for a newer key history: it does not verify, or it carries
    /// signatures by keys that no validator of the latest epoch followed has (a member added
    /// or a key rotated since).
    pub fn wants_newer(&self, note: &[u8]) -> bool {
        self.verify(note).is_err() || !keys::unknown_signers(note, &self.latest_keys()).is_empty()
    }

    /// The sentence for a checkpoint that did not verify: the reason, and what to do when it
    /// is signed by keys this history does not know.
    pub fn why(&self, note: &[u8], e: &CheckpointError, advice: &str) -> String {
        format!(
            "{e}{}",
            keys::unknown_signers_hint(note, &self.latest_keys(), advice)
        )
    }

    fn latest_keys(&self) -> Vec<VerifierKey> {
        self.history
            .current()
            .validator_vkeys()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// Follows `dir/key-history` if there is one. The outer error is a file that could not be
    /// read; the inner one a history that does not follow from the genesis (a damaged file, or
    /// one of another network).
    pub fn load(&mut self, dir: &Path) -> anyhow::Result<Result<(), String>> {
        let path = dir.join(KEY_HISTORY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(())),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(self
            .follow(&bytes)
            .map(|_| ())
            .map_err(|e| format!("{} does not follow from this genesis: {e}", path.display())))
    }

    /// Writes the history followed to `dir/key-history` (a temporary file, fsync, rename), if
    /// it has any change.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        if self.history.links().is_empty() {
            return Ok(());
        }
        let mut json = serde_json::to_vec_pretty(&self.history.to_file(&self.network))
            .expect("a key history serializes");
        json.push(b'\n');
        let path = dir.join(KEY_HISTORY_FILE);
        let tmp = dir.join(format!("{KEY_HISTORY_FILE}.tmp"));
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&json)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::ledger_world::*;

    #[test]
    fn a_history_is_followed_kept_and_never_swapped_for_another() {
        let g = governed_world();
        let mut trust = Trust::genesis(&g.world.network);
        assert!(trust.verify(&g.checkpoint).is_err());
        assert!(trust.wants_newer(&g.checkpoint));
        let why = trust.why(
            &g.checkpoint,
            &trust.verify(&g.checkpoint).unwrap_err(),
            "do this",
        );
        assert!(
            why.contains("signed by bank9, bri") && why.contains("do this"),
            "{why}"
        );
        assert_eq!(trust.follow(&g.history).unwrap(), 3);
        trust.verify(&g.checkpoint).unwrap();
        assert!(!trust.wants_newer(&g.checkpoint));
        // A shorter history (a node behind) adds nothing and takes nothing away.
        let first = g.world.history(g.links[..1].to_vec());
        assert_eq!(trust.follow(&first).unwrap(), 0);
        assert_eq!(trust.epoch(), 3);

        // Kept in a directory, followed again from there.
        let dir = tempfile::tempdir().unwrap();
        trust.save(dir.path()).unwrap();
        let mut again = Trust::genesis(&g.world.network);
        again.load(dir.path()).unwrap().unwrap();
        assert_eq!(again.epoch(), 3);
        // Nothing is written for a network without changes.
        let empty = tempfile::tempdir().unwrap();
        Trust::genesis(&g.world.network).save(empty.path()).unwrap();
        assert!(!empty.path().join(KEY_HISTORY_FILE).exists());

        // Another change approved for epoch 1: evidence, not followed.
        let other = conflicting_link(&g.world, g.starts[0]);
        match trust.follow(&g.world.history(vec![other.clone()])) {
            Err(FollowError::Conflict(c)) => {
                assert_eq!((c.epoch, &c.known, &c.other), (1, &g.links[0], &other));
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(trust.epoch(), 3);
        // One that differs without holding up is refused as such.
        let mut forged = other;
        forged.votes.truncate(2);
        assert!(matches!(
            trust.follow(&g.world.history(vec![forged])),
            Err(FollowError::Refused(HistoryError::NotApproved { .. }))
        ));
    }
}
