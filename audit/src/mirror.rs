//! `bansos-audit mirror`: copies a node's whole log into a static directory in the C2SP
//! tlog-tiles layout (docs/AUDIT.md, "Mirror layout"), verifying every tile and entry bundle
//! against a quorum-signed checkpoint before it is written, so any web server can then serve
//! the directory as a read-only mirror that citizens and auditors can trust as much as a node.
//!
//! Validators changed by governance are followed: the node's key history (`/key-history`) is
//! followed from the genesis keys, the checkpoint verified against the validators of its
//! epoch, and the history kept in the mirror as `key-history` (written before the checkpoint,
//! and only once there is a change), so `--check`, `aggregates` and anyone reading the mirror
//! can verify it from the genesis alone.
//!
//! Resumable: a tile already in the directory is used if it verifies, and fetched again if it
//! does not. `--check` verifies an existing mirror offline. Memory stays bounded: tiles are
//! walked depth first from the edge tiles, and a level's tiles are dropped once their subtree
//! is done, so only one path of tiles (plus the edge) is held at a time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bansos_genesis::Network;
use bansos_verifier::checkpoint::VerifiedCheckpoint;
use bansos_verifier::tile::{self, TILE_WIDTH, TileKind, TileRef, VerifiedTiles};
use bansos_verify::audit::{self, Fetch};
use bansos_verify::failure::Outcome;
use bansos_verify::keys;

use crate::trust::Trust;

/// What to do about a checkpoint signed by keys the followed history lacks.
const ADVICE: &str = "the validators changed after the epochs the key history reaches (the node's /key-history, or the mirror's key-history file)";

/// Arguments of `mirror`.
#[derive(clap::Args, Debug)]
#[command(long_about = "\
Copy a node's whole log into a static directory in the C2SP tlog-tiles layout, verifying every
hash tile and entry bundle against a checkpoint signed by a quorum of the genesis validators.

The directory (checkpoint, tile/<L>/<N>, tile/entries/<N>, partial tiles, mirror.json, and
key-history once the validators changed) can be served by any web server as a read-only
mirror: `bansos-verify log` and the citizen's page work against it. The checkpoint and
mirror.json are written last, after every tile verified.

Validators changed by governance are followed: GET <node>/key-history is followed from the
genesis keys (each change checked against the votes of the validators before it), and the
checkpoint must be signed by the validators of the epoch its size is in.
Run it again to bring the mirror up to date: tiles already there are verified, not fetched.

  bansos-audit mirror --genesis genesis.json --node http://127.0.0.1:8700 --out mirror/
  bansos-audit mirror --genesis genesis.json --check --out mirror/

Exit codes: 0 verified; 1 something does not verify (a tile, bundle or checkpoint, named);
2 the mirror could not be made (arguments, network, files).")]
pub struct Args {
    /// The network's genesis file: the checkpoint must be signed by a quorum of its validators.
    #[arg(long, value_name = "FILE")]
    genesis: PathBuf,
    /// The node (or another mirror) to copy from.
    #[arg(long, value_name = "URL", required_unless_present = "check")]
    node: Option<String>,
    /// The mirror directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Verify the mirror in --out against its own checkpoint, offline; fetch nothing.
    #[arg(long, conflicts_with = "node")]
    check: bool,
    /// Seconds allowed for each HTTP request.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout_secs: u64,
}

/// What a mirror run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MirrorReport {
    /// Tree size of the mirrored checkpoint.
    pub size: u64,
    /// Hash tiles verified.
    pub tiles: u64,
    /// Entry bundles verified.
    pub bundles: u64,
    /// Tiles and bundles fetched (the rest were already in the directory).
    pub fetched: u64,
    /// Files in the directory that did not verify and were fetched again.
    pub replaced: u64,
}

/// The files of a mirror directory, read through the same interface as a node.
pub struct DirFetch(pub PathBuf);

impl Fetch for DirFetch {
    fn get(&self, path: &str, bytes_max: u64) -> Outcome<Option<Vec<u8>>> {
        let file = self.0.join(path);
        match std::fs::read(&file) {
            Ok(bytes) if bytes.len() as u64 > bytes_max => Err(bansos_verify::failure::invalid(
                format!("{} is larger than any valid {path}", file.display()),
            )),
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(bansos_verify::failure::unchecked(format!(
                "reading {}: {e}",
                file.display()
            ))),
        }
    }
}

/// Runs `mirror`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let genesis = std::fs::read(&args.genesis)
        .with_context(|| format!("reading {}", args.genesis.display()))?;
    let network = Network::from_bytes(&genesis)
        .with_context(|| format!("{} is not a valid genesis", args.genesis.display()))?;
    let mut trust = Trust::genesis(&network);
    let result = if args.check {
        check(&args.out, &mut trust)
    } else {
        let url = args
            .node
            .as_deref()
            .expect("clap requires --node without --check");
        let node = bansos_verify::http::HttpLog::new(url, Duration::from_secs(args.timeout_secs))
            .map_err(|f| anyhow::anyhow!("{f}"))?;
        mirror(&node, &args.out, &mut trust)
    };
    match result {
        Ok(r) => {
            println!(
                "OK size={} hash_tiles={} entry_bundles={} fetched={} replaced={} dir={}",
                r.size,
                r.tiles,
                r.bundles,
                r.fetched,
                r.replaced,
                args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(MirrorError::Invalid(why)) => {
            eprintln!("bansos-audit mirror: FAILED: {why}");
            Ok(ExitCode::from(1))
        }
        Err(MirrorError::Unchecked(why)) => Err(why),
    }
}

/// Why a mirror run failed.
#[derive(Debug)]
pub enum MirrorError {
    /// Something was checked and is wrong.
    Invalid(String),
    /// The run could not be completed.
    Unchecked(anyhow::Error),
}

impl From<bansos_verify::failure::Failure> for MirrorError {
    fn from(f: bansos_verify::failure::Failure) -> Self {
        match f {
            bansos_verify::failure::Failure::Invalid(e) => MirrorError::Invalid(format!("{e:#}")),
            bansos_verify::failure::Failure::Unchecked(e) => MirrorError::Unchecked(e),
        }
    }
}

fn io(e: std::io::Error, what: &Path) -> MirrorError {
    MirrorError::Unchecked(anyhow::anyhow!("{}: {e}", what.display()))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader (or a resumed
/// run) never sees half a tile.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MirrorError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    }
    let tmp = path.with_extension("partial-write");
    std::fs::write(&tmp, bytes).map_err(|e| io(e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| io(e, path))
}

/// Where tiles come from and go to.
struct Copy<'a> {
    dir: &'a Path,
    /// `None`: check the directory only.
    node: Option<&'a dyn Fetch>,
    report: MirrorReport,
}

impl Copy<'_> {
    /// The verified bytes of `t`: from the directory if they verify, else from the node
    /// (written to the directory once verified).
    fn obtain<T>(
        &mut self,
        t: &TileRef,
        verify: &mut dyn FnMut(&[u8]) -> Result<T, String>,
    ) -> Result<T, MirrorError> {
        let local = DirFetch(self.dir.to_path_buf());
        let on_disk = audit::fetch(&local, t).ok();
        if let Some(bytes) = &on_disk {
            match verify(bytes) {
                Ok(v) => return Ok(v),
                Err(why) if self.node.is_none() => {
                    return Err(MirrorError::Invalid(format!(
                        "{} in the mirror does not verify: {why}",
                        t.path()
                    )));
                }
                Err(_) => self.report.replaced += 1,
            }
        }
        let Some(node) = self.node else {
            return Err(MirrorError::Invalid(format!(
                "{} is missing from the mirror",
                t.path()
            )));
        };
        let bytes = audit::fetch(node, t)?;
        let v = verify(&bytes)
            .map_err(|why| MirrorError::Invalid(format!("{} from the node: {why}", t.path())))?;
        write_atomic(&self.dir.join(t.path()), &bytes)?;
        self.report.fetched += 1;
        Ok(v)
    }
}

fn verified_checkpoint(note: &[u8], trust: &Trust) -> Result<VerifiedCheckpoint, MirrorError> {
    trust.verify(note).map_err(|e| {
        MirrorError::Invalid(format!("the checkpoint: {}", trust.why(note, &e, ADVICE)))
    })
}

/// Follows the key history kept in the mirror `dir`, if there is one.
fn load_history(dir: &Path, trust: &mut Trust) -> Result<(), MirrorError> {
    trust
        .load(dir)
        .map_err(MirrorError::Unchecked)?
        .map_err(MirrorError::Invalid)
}

/// Copies and verifies the log of `node` into `dir`.
pub fn mirror(
    node: &dyn Fetch,
    dir: &Path,
    trust: &mut Trust,
) -> Result<MirrorReport, MirrorError> {
    load_history(dir, trust)?;
    let note = node
        .get("checkpoint", audit::CHECKPOINT_BYTES_MAX)?
        .ok_or_else(|| MirrorError::Unchecked(anyhow::anyhow!("the node has no checkpoint")))?;
    // Asked after the checkpoint, the history reaches at least the checkpoint's epoch.
    if let Some(history) = keys::fetch_key_history(node)? {
        let added = trust.follow(&history).map_err(|e| {
            MirrorError::Invalid(format!(
                "the node's key history (GET key-history) is not followed: {e}"
            ))
        })?;
        if added > 0 {
            eprintln!(
                "followed {added} governance changes from the node's key history: epoch {}",
                trust.epoch()
            );
        }
    }
    let cp = verified_checkpoint(&note, trust)?;
    let mut copy = Copy {
        dir,
        node: Some(node),
        report: MirrorReport::default(),
    };
    walk(&mut copy, &cp)?;
    // Readers see the new checkpoint only once every tile it needs is in place, and the key
    // history that leads to its validators.
    trust.save(dir).map_err(MirrorError::Unchecked)?;
    write_atomic(&dir.join("checkpoint"), &note)?;
    let summary = serde_json::json!({
        "origin": cp.checkpoint.origin,
        "size": cp.checkpoint.size.0,
        "root": cp.checkpoint.root.to_base64(),
        "verified_at": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });
    write_atomic(
        &dir.join("mirror.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;
    Ok(copy.report)
}

/// Verifies the mirror in `dir` against its own checkpoint (and key history), reading nothing
/// else.
pub fn check(dir: &Path, trust: &mut Trust) -> Result<MirrorReport, MirrorError> {
    load_history(dir, trust)?;
    let note = std::fs::read(dir.join("checkpoint")).map_err(|e| io(e, &dir.join("checkpoint")))?;
    let cp = verified_checkpoint(&note, trust)?;
    let mut copy = Copy {
        dir,
        node: None,
        report: MirrorReport::default(),
    };
    walk(&mut copy, &cp)?;
    Ok(copy.report)
}

/// Every tile and bundle of the checkpoint's tree, each verified before it is kept: the edge
/// tiles against the root, then depth first from them, each full tile against its parent and
/// each bundle against its level-0 tile.
fn walk(copy: &mut Copy<'_>, cp: &VerifiedCheckpoint) -> Result<(), MirrorError> {
    let size = cp.checkpoint.size;
    copy.report.size = size.0;
    let mut tiles = VerifiedTiles::new(size, cp.checkpoint.root);
    let edge = tile::edge_tiles(size);
    let mut edge_bytes = Vec::with_capacity(edge.len());
    for t in &edge {
        let bytes = copy.obtain(t, &mut |b| {
            tile::parse_hash_tile(t, b)
                .map(|_| b.to_vec())
                .map_err(|e| e.to_string())
        })?;
        edge_bytes.push((*t, bytes));
    }
    if let Err(e) = tiles.add_edge(&edge_bytes) {
        // The edge tiles came from the directory or the node; try the node once more if the
        // directory's copies are the ones that fail.
        if copy.node.is_none() {
            return Err(MirrorError::Invalid(format!(
                "the edge tiles do not hash to the checkpoint's root: {e}"
            )));
        }
        let node = copy.node.expect("checked");
        let mut fresh = Vec::with_capacity(edge.len());
        for t in &edge {
            fresh.push((*t, audit::fetch(node, t)?));
        }
        tiles.add_edge(&fresh).map_err(|e| {
            MirrorError::Invalid(format!(
                "the node's edge tiles do not hash to the checkpoint's root: {e}"
            ))
        })?;
        for (t, b) in &fresh {
            write_atomic(&copy.dir.join(t.path()), b)?;
        }
        copy.report.replaced += edge.len() as u64;
        edge_bytes = fresh;
    }
    copy.report.tiles += edge.len() as u64;
    // The full children of each edge tile, then the partial entry bundle.
    for (t, _) in &edge_bytes {
        let TileKind::Hash(level) = t.kind else {
            unreachable!("edge tiles are hash tiles")
        };
        if level == 0 {
            bundle(copy, &tiles, t.index)?;
        } else {
            for j in 0..u64::from(t.width) {
                subtree(copy, &mut tiles, level - 1, t.index * TILE_WIDTH + j)?;
            }
        }
    }
    Ok(())
}

/// The full hash tile (`level`, `index`), then everything under it.
fn subtree(
    copy: &mut Copy<'_>,
    tiles: &mut VerifiedTiles,
    level: u8,
    index: u64,
) -> Result<(), MirrorError> {
    let t = TileRef::hash(level, index, TILE_WIDTH as u16);
    let mut checked = tiles.clone();
    copy.obtain(&t, &mut |b| {
        checked = tiles.clone();
        checked.add_full(&t, b).map_err(|e| e.to_string())
    })?;
    *tiles = checked;
    copy.report.tiles += 1;
    if level == 0 {
        bundle(copy, tiles, index)?;
    } else {
        // Under a full tile every child tile is full.
        for j in 0..TILE_WIDTH {
            subtree(copy, tiles, level - 1, index * TILE_WIDTH + j)?;
        }
    }
    // This subtree is done: its tiles are no longer needed to check anything.
    tiles.forget_level(level);
    Ok(())
}

/// The entry bundle `index`, checked against its level-0 tile.
fn bundle(copy: &mut Copy<'_>, tiles: &VerifiedTiles, index: u64) -> Result<(), MirrorError> {
    let t = tile::tile_at_size(TileKind::Entries, index, tiles.size())
        .expect("a bundle under a tile of the tree");
    copy.obtain(&t, &mut |b| {
        tiles
            .check_bundle(&t, b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    copy.report.bundles += 1;
    if copy.report.bundles.is_multiple_of(1000) {
        eprintln!(
            "  {} entry bundles and {} hash tiles verified",
            copy.report.bundles, copy.report.tiles
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::ledger_world::*;
    use crate::trust::KEY_HISTORY_FILE;

    #[test]
    fn a_later_epoch_is_mirrored_with_its_key_history() {
        let g = governed_world();
        let mut files = g.world.tiles(g.checkpoint.clone());
        files.insert("key-history".into(), g.history.clone());
        let node = Served(files);
        let dir = tempfile::tempdir().unwrap();
        let mut trust = Trust::genesis(&g.world.network);
        let report = mirror(&node, dir.path(), &mut trust).unwrap();
        assert_eq!(report.size, g.world.leaves.len() as u64);
        assert!(dir.path().join(KEY_HISTORY_FILE).exists());
        // Checked offline from the genesis alone, through the mirror's key history.
        check(dir.path(), &mut Trust::genesis(&g.world.network)).unwrap();

        // A node that serves no key history: the checkpoint is refused, saying what to do.
        let mut files = node.0.clone();
        files.remove("key-history");
        let bare = tempfile::tempdir().unwrap();
        match mirror(
            &Served(files),
            bare.path(),
            &mut Trust::genesis(&g.world.network),
        ) {
            Err(MirrorError::Invalid(why)) => {
                assert!(
                    why.contains("bank9") && why.contains("key history"),
                    "{why}"
                );
            }
            r => panic!("{r:?}"),
        }
        assert!(!bare.path().join("checkpoint").exists());
        // A mirror whose key history was removed no longer checks.
        std::fs::remove_file(dir.path().join(KEY_HISTORY_FILE)).unwrap();
        assert!(matches!(
            check(dir.path(), &mut Trust::genesis(&g.world.network)),
            Err(MirrorError::Invalid(_))
        ));
    }

    #[test]
    fn a_log_without_changes_is_mirrored_as_before() {
        let (w, _) = clean_world();
        let keys: Vec<_> = (0..3).map(|m| w.key(m).clone()).collect();
        let note = w.checkpoint_at(
            w.leaves.len() as u64,
            &[
                ("kemensos", &keys[0]),
                ("kemenkeu", &keys[1]),
                ("bri", &keys[2]),
            ],
        );
        let node = Served(w.tiles(note));
        let dir = tempfile::tempdir().unwrap();
        mirror(&node, dir.path(), &mut Trust::genesis(&w.network)).unwrap();
        assert!(!dir.path().join(KEY_HISTORY_FILE).exists());
        check(dir.path(), &mut Trust::genesis(&w.network)).unwrap();
    }
}
