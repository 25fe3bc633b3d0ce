//! The log audit: from a quorum-signed checkpoint down to the entries, every byte fetched is
//! checked against the checkpoint's root before it is used.
//!
//! The order is fixed by what can be checked against what: the checkpoint against the trusted
//! keys; the edge (partial) tiles against the checkpoint's root; every full tile against its
//! already-checked parent, so higher levels are fetched first; every entry bundle against its
//! checked level-0 tile. Last, inclusion proofs for a few entries are built from the checked
//! tiles and verified with the RFC 9162 algorithm, as an independent cross-check of the tile
//! math. Entries are opaque bytes: any C2SP tlog-tiles log can be audited.
//!
//! Trust is either keys and a quorum (any log) or a Bansos Ledger trust policy. With a trust
//! policy the log's key history (`key-history`) is followed from the genesis keys first, so a
//! checkpoint signed by the validators of any later epoch verifies, and the governance votes
//! the history cites are looked for in the entries read: each approved change's votes must be
//! entries of the epoch they name, the last one just before the epoch's start.
//!
//! The audit does no I/O of its own; it reads through [`Fetch`] and takes its random seed as a
//! parameter, so a run can be repeated exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bansos_verifier::checkpoint::{Checkpoint, VerifiedCheckpoint, verify_checkpoint};
use bansos_verifier::entry::{Leaf, TxBody};
use bansos_verifier::hash::{HASH_BYTES, Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle;
use bansos_verifier::note::{NOTE_BYTES_MAX, Note, Policy, VerifierKey};
use bansos_verifier::policy::TrustPolicy;
use bansos_verifier::tile::{
    self, ENTRY_BYTES_MAX, TILE_BYTES_FULL, TILE_WIDTH, TileError, TileKind, TileRef, VerifiedTiles,
};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use crate::failure::{Classify as _, Failure, Outcome, invalid, unchecked};
use crate::keys;

/// Logs up to this many entries are audited completely: every tile and every entry bundle.
pub const AUDIT_FULL_ENTRIES_MAX: u64 = 100_000;
/// Entry bundles checked in a larger log unless `--sample` says otherwise.
pub const SAMPLE_BUNDLES_DEFAULT: u64 = 64;
/// Entries whose inclusion proof is built and verified.
pub const INCLUSION_CHECKS_MAX: usize = 32;
/// Largest checkpoint accepted (the signed-note parser's own bound).
pub const CHECKPOINT_BYTES_MAX: u64 = NOTE_BYTES_MAX as u64;
/// Largest hash tile: 256 hashes.
pub const HASH_TILE_BYTES_MAX: u64 = TILE_BYTES_FULL as u64;
/// Largest entry bundle: 256 entries of at most 65,535 bytes, each with a 2-byte length.
pub const BUNDLE_BYTES_MAX: u64 = TILE_WIDTH * (2 + ENTRY_BYTES_MAX as u64);

/// Where the audit reads the log's resources from.
pub trait Fetch {
    /// The bytes at `path` under the log's prefix (`checkpoint`, `tile/0/000`, ...), or
    /// `None` if the log answers "not found". A response over `bytes_max` bytes is an error.
    fn get(&self, path: &str, bytes_max: u64) -> Outcome<Option<Vec<u8>>>;
}

/// Who must have signed the checkpoint.
#[derive(Clone, Copy, Debug)]
pub enum Trust<'a> {
    /// A quorum of these keys. Entries are opaque bytes: any C2SP tlog-tiles log.
    Keys(&'a Policy),
    /// A Bansos Ledger network's trust policy, followed through the key history it holds
    /// (for `log`: then through the log's own `key-history`).
    Network(&'a TrustPolicy),
}

impl Trust<'_> {
    /// Checks a checkpoint note: its origin (`origin`, or the policy's) and its signatures, by
    /// the keys, or by the validators of the epoch its size falls in (and the witnesses the
    /// policy requires). A checkpoint that fails while signed by keys this trust does not know
    /// says what to do about it. `what` names the checkpoint in the error.
    pub fn verify_checkpoint(
        &self,
        note: &[u8],
        origin: Option<&str>,
        what: &str,
    ) -> Result<VerifiedCheckpoint, Failure> {
        let (result, known, advice) = match self {
            Trust::Keys(policy) => (
                verify_checkpoint(note, origin, policy),
                policy.keys().to_vec(),
                keys::ADVICE_KEYS,
            ),
            Trust::Network(policy) => {
                let result = policy.verify_checkpoint(note);
                let size = Note::parse(note)
                    .ok()
                    .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                    .map_or(u64::MAX, |c| c.size.0);
                let known: Vec<VerifierKey> = policy
                    .history()
                    .roster_for(size)
                    .validator_vkeys()
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                (result, known, keys::ADVICE_HISTORY)
            }
        };
        result.map_err(|e| {
            invalid(format!(
                "{what}: {e}{}",
                keys::unknown_signers_hint(note, &known, advice)
            ))
        })
    }
}

/// What to check beyond the signatures.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The origin line the checkpoint must carry, if any.
    pub origin: Option<String>,
    /// Entry bundles to check in a log larger than [`AUDIT_FULL_ENTRIES_MAX`].
    pub sample_bundles: u64,
    /// Seed for choosing the sampled bundles and entries.
    pub seed: u64,
}

/// What an audit that passed has checked.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// The checkpoint's tree size.
    pub size: TreeSize,
    /// The checkpoint's root.
    pub root: Hash,
    /// Names of the trusted keys that signed it.
    pub signers: Vec<String>,
    /// Whether every tile and bundle was checked (rather than a sample).
    pub complete: bool,
    /// Hash tiles checked.
    pub tiles: u64,
    /// Entry bundles checked.
    pub bundles: u64,
    /// Entries whose leaf hash was recomputed.
    pub entries: u64,
    /// Inclusion proofs built and verified.
    pub inclusion_proofs: u64,
    /// With a trust policy: the epoch whose validators signed the checkpoint.
    pub epoch: Option<u64>,
    /// With a trust policy: what was checked of the key history's changes.
    pub governance: Option<GovernanceCheck>,
}

/// Runs the audit against the log `log` under `trust`.
pub fn audit(log: &dyn Fetch, trust: Trust<'_>, options: &AuditOptions) -> Outcome<AuditReport> {
    let bytes = log
        .get("checkpoint", CHECKPOINT_BYTES_MAX)?
        .ok_or_else(|| {
            unchecked("the log serves no checkpoint (HTTP 404): is the URL the log's prefix?")
        })?;
    // With a trust policy, the validators are followed through the log's key history first.
    let followed = match trust {
        Trust::Network(policy) => {
            let mut followed = policy.clone();
            if let Some(history) = keys::fetch_key_history(log)? {
                keys::follow(&mut followed, &history, "the log serves (GET key-history)")?;
            }
            Some(followed)
        }
        Trust::Keys(_) => None,
    };
    let trust = followed.as_ref().map_or(trust, Trust::Network);
    let verified = trust.verify_checkpoint(&bytes, options.origin.as_deref(), "checkpoint")?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let epoch = match trust {
        Trust::Keys(policy) => {
            progress(format_args!(
                "checkpoint: origin {}, size {size}, root {root}, signed by {} of the {} trusted keys ({})",
                verified.checkpoint.origin,
                verified.verified.signers.len(),
                policy.keys().len(),
                verified.verified.signers.join(", ")
            ));
            None
        }
        Trust::Network(policy) => {
            let roster = policy.history().roster_for(size.0);
            progress(format_args!(
                "checkpoint: origin {}, size {size}, root {root}, signed by {} of the {} validators of epoch {} ({})",
                verified.checkpoint.origin,
                verified.verified.signers.len(),
                roster.validators().count(),
                roster.epoch,
                verified.verified.signers.join(", ")
            ));
            Some(roster.epoch)
        }
    };
    let mut governance = followed
        .as_ref()
        .map(|policy| Governance::new(policy, size));

    let mut report = AuditReport {
        size,
        root,
        signers: verified.verified.signers,
        complete: size.0 <= AUDIT_FULL_ENTRIES_MAX,
        tiles: 0,
        bundles: 0,
        entries: 0,
        inclusion_proofs: 0,
        epoch,
        governance: None,
    };
    let mut tiles = VerifiedTiles::new(size, root);
    report.tiles += check_edge(log, &mut tiles)?;

    let mut rng = StdRng::seed_from_u64(options.seed);
    let bundle_count = size.0.div_ceil(TILE_WIDTH);
    let mut bundles: Vec<u64> = if report.complete {
        (0..bundle_count).collect()
    } else {
        sample_with_last(&mut rng, bundle_count, options.sample_bundles)
    };
    if let Some(g) = &governance
        && !report.complete
    {
        // The entry before each epoch's start is the change's approving vote: always read.
        let mut with: BTreeSet<u64> = bundles.into_iter().collect();
        with.extend(g.approving_bundles());
        bundles = with.into_iter().collect();
    }
    let proved = choose_proved_entries(&mut rng, size, &bundles);
    progress(format_args!(
        "checking {} of {bundle_count} entry bundles{}",
        bundles.len(),
        if report.complete {
            ""
        } else {
            " (a random sample, and the last one)"
        }
    ));

    let mut leaves: Vec<(LeafIndex, Hash)> = Vec::with_capacity(INCLUSION_CHECKS_MAX);
    let progress_every = (bundles.len() / 10).max(1);
    for (n, &bundle) in bundles.iter().enumerate() {
        report.tiles += check_chain(log, &mut tiles, bundle)?;
        let tile = tile::tile_at_size(TileKind::Entries, bundle, size)
            .expect("a bundle index below the bundle count");
        let bytes = fetch(log, &tile)?;
        let entries = tiles.check_bundle(&tile, &bytes).map_err(invalid)?;
        if let Some(g) = &mut governance {
            for (i, entry) in entries.iter().enumerate() {
                g.on_entry(bundle * TILE_WIDTH + i as u64, entry)?;
            }
        }
        report.bundles += 1;
        report.entries += entries.len() as u64;
        for &position in proved.get(&bundle).into_iter().flatten() {
            let index = LeafIndex(bundle * TILE_WIDTH + u64::from(position));
            leaves.push((index, leaf_hash(entries[position as usize])));
        }
        if (n + 1) % progress_every == 0 || n + 1 == bundles.len() {
            progress(format_args!(
                "  checked: {} of {} bundles, {} entries, {} tiles",
                n + 1,
                bundles.len(),
                report.entries,
                report.tiles
            ));
        }
    }

    for (index, leaf) in leaves {
        // Every hash of the proof is in a checked tile: the entry's own tiles up to the edge,
        // and the edge tiles. A miss here is a bug in this program, not in the log.
        let proof = merkle::inclusion_proof(&tiles, index, size)
            .expect("the checked tiles hold every hash of the proof")
            .expect("a checked entry is inside the tree");
        merkle::verify_inclusion(&leaf, index, size, &proof, &root).invalid(format!(
            "inclusion proof of entry {index} built from the checked tiles"
        ))?;
        report.inclusion_proofs += 1;
    }
    progress(format_args!(
        "inclusion proofs verified for {} entries",
        report.inclusion_proofs
    ));
    report.governance = governance
        .map(|g| g.finish(&tiles, report.complete))
        .transpose()?;
    Ok(report)
}

/// What the audit found of the governance changes of the key history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceCheck {
    /// Approved changes whose epoch starts within the checkpoint: each one's approving vote
    /// was found as the entry just before its epoch's start.
    pub changes: u64,
    /// Votes those changes cite.
    pub votes: u64,
    /// Of them, found among the entries read, each within the epoch it names (all of them in a
    /// complete audit).
    pub votes_found: u64,
    /// Approved changes whose epoch starts after the checkpoint (not checked against it).
    pub later: u64,
}

/// One approved change of the key history, as the log must show it.
struct LinkCheck {
    epoch: u64,
    /// The log size from which the new epoch signs.
    start: u64,
    /// The start of the epoch the votes were cast in (they name it): the votes are entries in
    /// `previous..start`.
    previous: u64,
    /// Where each vote was found.
    found: Vec<Option<u64>>,
    /// Whether the entry before `start` was found to be one of the votes.
    approving: bool,
    /// The root of the epoch's first checkpoint (of size `start`), signed by its validators.
    root: Hash,
}

/// The governance votes a key history cites, looked for in the entries read. The ledger
/// applies a block's votes after its other transactions and refuses votes after an approval in
/// the same block, so the block that approves a change ends with the approving vote, and the
/// epoch starts right after it (docs/AUDIT.md, "Governance").
struct Governance {
    links: Vec<LinkCheck>,
    /// The votes by their signed transaction's canonical bytes in hex: (link, vote).
    by_vote: HashMap<String, (usize, usize)>,
    /// Link by its epoch's start size.
    by_start: HashMap<u64, usize>,
    later: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Governance {
    fn new(policy: &TrustPolicy, size: TreeSize) -> Governance {
        let history = policy.history();
        let rosters = history.rosters();
        let mut g = Governance {
            links: Vec::new(),
            by_vote: HashMap::new(),
            by_start: HashMap::new(),
            later: 0,
        };
        for (i, link) in history.links().iter().enumerate() {
            let (previous, start) = (rosters[i].start_size, rosters[i + 1].start_size);
            if start > size.0 {
                g.later += 1;
                continue;
            }
            // The history checked this note when it was followed.
            let root = Note::parse(link.checkpoint.as_bytes())
                .ok()
                .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                .expect("a followed link's checkpoint parses")
                .root;
            let n = g.links.len();
            for (v, vote) in link.votes.iter().enumerate() {
                g.by_vote.insert(vote.clone(), (n, v));
            }
            g.by_start.insert(start, n);
            g.links.push(LinkCheck {
                epoch: link.epoch,
                start,
                previous,
                found: vec![None; link.votes.len()],
                approving: false,
                root,
            });
        }
        if g.later > 0 {
            progress(format_args!(
                "note: {} approved changes of the key history take effect after this checkpoint: not checked against it",
                g.later
            ));
        }
        g
    }

    /// The entry bundles holding the entry before each epoch's start.
    fn approving_bundles(&self) -> impl Iterator<Item = u64> + '_ {
        self.links.iter().map(|l| (l.start - 1) / TILE_WIDTH)
    }

    /// Entry `index` (checked against the root): a vote the history cites must lie in the
    /// epoch it names, and the entry before an epoch's start must be one of its votes.
    fn on_entry(&mut self, index: u64, bytes: &[u8]) -> Outcome<()> {
        let vote = Leaf::decode(bytes)
            .ok()
            .filter(|leaf| matches!(leaf.tx.body, TxBody::Vote(_)))
            .and_then(|leaf| self.by_vote.get(&hex(&leaf.tx.encode())).copied());
        if let Some(&l) = self.by_start.get(&(index + 1)) {
            let link = &mut self.links[l];
            if vote.is_none_or(|(k, _)| k != l) {
                return Err(invalid(format!(
                    "the key history's epoch {} starts at log size {}, but entry {index}, the last of the block before, is not one of the votes that approved its change",
                    link.epoch, link.start
                )));
            }
            link.approving = true;
        }
        if let Some((l, v)) = vote {
            let link = &mut self.links[l];
            if !(link.previous..link.start).contains(&index) {
                return Err(invalid(format!(
                    "vote {v} of the key history's epoch {} is entry {index}, outside the epoch it was cast in (log sizes {} to {})",
                    link.epoch,
                    link.previous,
                    link.start - 1
                )));
            }
            link.found[v] = Some(index);
        }
        Ok(())
    }

    /// After the entries: each epoch's first checkpoint must be of this log (its root is the
    /// root of the log's first `start` entries, from the checked tiles), and in a complete audit
    /// every vote must have been found.
    fn finish(self, tiles: &VerifiedTiles, complete: bool) -> Outcome<GovernanceCheck> {
        let mut check = GovernanceCheck {
            changes: self.links.len() as u64,
            votes: 0,
            votes_found: 0,
            later: self.later,
        };
        for link in &self.links {
            assert!(
                link.approving,
                "the bundle before epoch {}'s start was read",
                link.epoch
            );
            // The tiles on the path of entry start - 1 hold every subtree of the first `start`
            // entries, and that bundle's chain was checked.
            let root = merkle::root(tiles, TreeSize(link.start)).map_err(|e| {
                unchecked(format!(
                    "the root of the log at epoch {}'s start, size {}: {e}",
                    link.epoch, link.start
                ))
            })?;
            if root != link.root {
                return Err(invalid(format!(
                    "the first checkpoint of the key history's epoch {} (size {}, root {}) is not of this log, whose first {} entries have the root {root}: its validators signed another history",
                    link.epoch, link.start, link.root, link.start
                )));
            }
            for (v, found) in link.found.iter().enumerate() {
                check.votes += 1;
                match found {
                    Some(_) => check.votes_found += 1,
                    None if complete => {
                        return Err(invalid(format!(
                            "vote {v} of the key history's epoch {} is not in the log: the validators cite a vote they never logged",
                            link.epoch
                        )));
                    }
                    None => {}
                }
            }
        }
        Ok(check)
    }
}

/// Which entries of the checked `bundles` get an inclusion proof, as positions by bundle: a
/// random sample, and always the log's last entry.
fn choose_proved_entries(
    rng: &mut StdRng,
    size: TreeSize,
    bundles: &[u64],
) -> BTreeMap<u64, Vec<u16>> {
    // Every checked bundle but the last is full, so checked entry k is in bundles[k / 256].
    let checked_entries = match bundles.last() {
        Some(&last) => {
            (bundles.len() as u64 - 1) * TILE_WIDTH + u64::from(bundle_width(size, last))
        }
        None => 0,
    };
    let mut proved: BTreeMap<u64, Vec<u16>> = BTreeMap::new();
    for k in sample_with_last(rng, checked_entries, INCLUSION_CHECKS_MAX as u64) {
        let bundle = bundles[(k / TILE_WIDTH) as usize];
        proved
            .entry(bundle)
            .or_default()
            .push((k % TILE_WIDTH) as u16);
    }
    proved
}

/// Fetches the edge tiles and checks that they hash to the checkpoint's root; returns how many.
pub fn check_edge(log: &dyn Fetch, tiles: &mut VerifiedTiles) -> Outcome<u64> {
    let size = tiles.size();
    let wanted = tile::edge_tiles(size);
    let mut edge = Vec::with_capacity(wanted.len());
    for tile in &wanted {
        edge.push((*tile, fetch(log, tile)?));
    }
    match tiles.add_edge(&edge) {
        Ok(()) => {}
        // The root alone cannot tell which edge tile is wrong; name them all.
        Err(TileError::RootMismatch(_)) if wanted.is_empty() => {
            return Err(invalid(
                "checkpoint: the tree is empty, but the root is not the empty tree's root",
            ));
        }
        Err(TileError::RootMismatch(_)) => {
            let names: Vec<String> = wanted.iter().map(TileRef::path).collect();
            return Err(invalid(format!(
                "the edge tiles {} do not hash to the checkpoint's root (size {size}): a tile or the checkpoint is wrong",
                names.join(", ")
            )));
        }
        Err(e) => return Err(invalid(e)),
    }
    progress(format_args!(
        "edge tiles: {} checked against the root",
        wanted.len()
    ));
    Ok(wanted.len() as u64)
}

/// Checks the level-0 tile of entry bundle `bundle` and every unchecked tile above it, top
/// down, each against its checked parent; returns how many were fetched.
pub fn check_chain(log: &dyn Fetch, tiles: &mut VerifiedTiles, bundle: u64) -> Outcome<u64> {
    let size = tiles.size();
    let mut chain = Vec::new();
    let (mut level, mut index) = (0u8, bundle);
    // Climb until a checked tile: at the latest the edge tile of some level, which is checked.
    while let Some(tile) = tile::tile_at_size(TileKind::Hash(level), index, size) {
        if tiles.has(level, index) {
            break;
        }
        // Partial tiles are the edge tiles, all checked already.
        assert!(tile.is_full(), "unchecked partial tile {tile}");
        chain.push(tile);
        (level, index) = (level + 1, index / TILE_WIDTH);
    }
    for tile in chain.iter().rev() {
        let bytes = fetch(log, tile)?;
        tiles.add_full(tile, &bytes).map_err(invalid)?;
    }
    Ok(chain.len() as u64)
}

/// Fetches a tile or bundle. A partial one may be gone once its full tile exists (tlog-tiles:
/// logs "MAY delete any partial tile once the corresponding full tile becomes available"), so
/// on a 404 the full one is fetched and its prefix used; checking it is the caller's business.
pub fn fetch(log: &dyn Fetch, tile: &TileRef) -> Outcome<Vec<u8>> {
    let bytes_max = match tile.kind {
        TileKind::Hash(_) => HASH_TILE_BYTES_MAX,
        TileKind::Entries => BUNDLE_BYTES_MAX,
    };
    if let Some(bytes) = log.get(&tile.path(), bytes_max)? {
        return Ok(bytes);
    }
    if tile.is_full() {
        return Err(unchecked(format!(
            "the log does not serve {tile} (HTTP 404), which its checkpoint requires"
        )));
    }
    let full = tile.full();
    let Some(bytes) = log.get(&full.path(), bytes_max)? else {
        return Err(unchecked(format!(
            "the log serves neither {tile} nor {full} (HTTP 404), which its checkpoint requires"
        )));
    };
    progress(format_args!(
        "  {tile} is gone (HTTP 404); using the start of {full}"
    ));
    match tile.kind {
        TileKind::Hash(_) => {
            if bytes.len() != TILE_BYTES_FULL {
                return Err(invalid(format!(
                    "tile {full} (fetched for {tile}) has {} bytes, expected {TILE_BYTES_FULL}",
                    bytes.len()
                )));
            }
            Ok(bytes[..tile.width as usize * HASH_BYTES].to_vec())
        }
        TileKind::Entries => match tile::bundle_prefix(&bytes, tile.width) {
            Some(prefix) => Ok(prefix.to_vec()),
            None => Err(invalid(format!(
                "entry bundle {full} (fetched for {tile}) holds fewer than {} entries",
                tile.width
            ))),
        },
    }
}

/// Number of entries in bundle `bundle` of a tree of `size` leaves.
fn bundle_width(size: TreeSize, bundle: u64) -> u16 {
    tile::tile_at_size(TileKind::Entries, bundle, size)
        .expect("a bundle inside the tree")
        .width
}

/// `amount` distinct numbers below `count` (all of them if `amount >= count`), always
/// including `count - 1`, in increasing order. Floyd's algorithm: exactly `amount - 1` draws.
fn sample_with_last(rng: &mut StdRng, count: u64, amount: u64) -> Vec<u64> {
    if count == 0 || amount == 0 {
        return Vec::new();
    }
    if amount >= count {
        return (0..count).collect();
    }
    // Choose amount - 1 of the first count - 1, then add the last.
    let (n, k) = (count - 1, amount - 1);
    let mut chosen = BTreeSet::new();
    for j in n - k..n {
        let t = rng.random_range(0..=j);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.insert(count - 1);
    chosen.into_iter().collect()
}

fn progress(line: std::fmt::Arguments<'_>) {
    eprintln!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_bounded_and_include_the_last() {
        let mut rng = StdRng::seed_from_u64(7);
        for (count, amount) in [
            (1, 1),
            (5, 1),
            (5, 3),
            (5, 5),
            (5, 9),
            (1000, 64),
            (3, 0),
            (0, 4),
        ] {
            let s = sample_with_last(&mut rng, count, amount);
            assert_eq!(
                s.len() as u64,
                amount.min(count),
                "count {count} amount {amount}"
            );
            assert!(s.windows(2).all(|w| w[0] < w[1]));
            if amount > 0 && count > 0 {
                assert_eq!(s.last(), Some(&(count - 1)));
            }
        }
    }
}
