//! `bansos-audit monitor`: follows every node's checkpoint, trusting none of them. Each
//! checkpoint must carry a quorum of the genesis validators' signatures, and every checkpoint
//! seen must be consistent with every other: the same size has the same root, and a larger
//! tree extends a smaller one (an RFC 6962 consistency proof from any node verifies). The
//! largest consistent checkpoint is kept in the state directory across runs.
//!
//! Two quorum-signed checkpoints that cannot both be true are a split view (or a rewritten
//! log): the monitor writes both signed notes and the failing proof to an evidence file that
//! anyone can check with the genesis keys alone, and exits with code 1.
//!
//! The validators may change by governance: a checkpoint that does not verify with the epochs
//! known, or that is signed by keys the latest one lacks, makes the monitor ask that node for
//! its key history (`/key-history`) and follow it from the genesis keys; what it followed is
//! kept in the state directory (`key-history`). Two histories that approve different changes
//! for one epoch are a split view too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::governance::Link;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::merkle::{PROOF_HASHES_MAX, verify_consistency};
use bansos_verifier::note::Note;
use bansos_verify::audit::{CHECKPOINT_BYTES_MAX, Fetch};
use bansos_verify::http::HttpLog;
use bansos_verify::keys;

use crate::trust::{Conflict, FollowError, Trust};

/// What to do about a checkpoint signed by keys the followed history lacks.
const ADVICE: &str =
    "the node's key history (GET /key-history) must reach the epoch that signed it";

/// Largest consistency-proof answer read.
const PROOF_BYTES_MAX: u64 = 64 * 1024;

/// Arguments of `monitor`.
#[derive(clap::Args, Debug)]
#[command(long_about = "\
Follow every node's checkpoint and prove that they all tell one story.

Each poll fetches GET <node>/checkpoint from every node, checks the signatures of a quorum of
the genesis validators, and checks every checkpoint against the largest one seen so far (kept
in --state across runs): the same size must have the same root, and a larger tree must extend
a smaller one (an RFC 6962 consistency proof, asked of every node until one verifies).

Validators changed by governance are followed: a checkpoint that does not verify with the
epochs known, or is signed by keys the latest one lacks, makes the monitor fetch that node's
GET <node>/key-history and follow it from the genesis keys (kept in --state as key-history).
Two key histories that approve different changes for one epoch are a split view.

On a split view — two quorum-signed checkpoints that cannot both be true — it writes
<state>/evidence-<time>.txt with both signed checkpoints and the failing proof, prints a
loud message and exits 1. Anyone can check the evidence with the genesis keys alone.

  bansos-audit monitor --genesis genesis.json --node http://a:8700 --node http://b:8700 --state mon/

Exit codes: 0 after --once with everything consistent; 1 split view (evidence written);
2 could not monitor (arguments, state files, no node answering).")]
pub struct Args {
    /// The network's genesis file.
    #[arg(long, value_name = "FILE")]
    genesis: PathBuf,
    /// A node to follow. Repeat for every node.
    #[arg(long = "node", value_name = "URL", required = true)]
    nodes: Vec<String>,
    /// Directory for the monitor's state and evidence files.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Seconds between polls.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    /// Poll once and exit.
    #[arg(long)]
    once: bool,
    /// Seconds allowed for each HTTP request.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout_secs: u64,
}

/// A checkpoint that verified, with where it came from.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The node's URL (or "state" for the one kept from an earlier run).
    pub source: String,
    /// The signed note, verbatim.
    pub note: Vec<u8>,
    /// Its size.
    pub size: TreeSize,
    /// Its root.
    pub root: Hash,
}

/// Two checkpoints that cannot both be true, and why.
#[derive(Clone, Debug)]
pub struct SplitView {
    /// What is wrong, in one sentence.
    pub reason: String,
    /// The smaller (or first) checkpoint.
    pub a: Seen,
    /// The larger (or second) checkpoint.
    pub b: Seen,
    /// The consistency proofs tried, by node, as base64 lines (empty for equal sizes).
    pub proofs: Vec<(String, Vec<Hash>)>,
    /// For two changes approved for one epoch: both key history links (source, JSON).
    pub links: Vec<(String, String)>,
}

impl SplitView {
    /// The evidence file: self-contained text.
    pub fn evidence(&self, detected_at: u64) -> String {
        let mut s = format!(
            "bansos-ledger split-view evidence\n\
             detected_at {detected_at}\n\
             reason: {}\n\
             Check: both checkpoints carry signatures of a quorum of the {}, and\n\
             {}\n\n\
             --- checkpoint A: size {} from {} ---\n{}\
             --- checkpoint B: size {} from {} ---\n{}",
            self.reason,
            if self.links.is_empty() {
                "validators of their epoch (the genesis validators, then each change of the key history)"
            } else {
                "validators of the epoch each link below starts"
            },
            if !self.links.is_empty() {
                "each is the first checkpoint of an epoch whose change (below) carries the votes of more than two thirds of the validators of the epoch before: two changes were approved for one epoch."
            } else if self.a.size == self.b.size {
                "they have the same size but different roots."
            } else {
                "no consistency proof from A to B verifies (below: the proofs the nodes gave)."
            },
            self.a.size,
            self.a.source,
            String::from_utf8_lossy(&self.a.note),
            self.b.size,
            self.b.source,
            String::from_utf8_lossy(&self.b.note),
        );
        for (node, proof) in &self.proofs {
            s.push_str(&format!(
                "--- consistency proof old={} new={} from {node} ({} hashes) ---\n",
                self.a.size,
                self.b.size,
                proof.len()
            ));
            for h in proof {
                s.push_str(&h.to_base64());
                s.push('\n');
            }
        }
        for (source, link) in &self.links {
            s.push_str(&format!("--- key history link from {source} ---\n{link}\n"));
        }
        s
    }

    /// The evidence of two changes approved for one epoch: both links, with their first
    /// checkpoints as A and B.
    fn of_conflict(c: &Conflict, known: &str, other: &str) -> SplitView {
        let seen = |link: &Link, source: &str| {
            let note = link.checkpoint.as_bytes().to_vec();
            let cp = Note::parse(&note)
                .ok()
                .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                .expect("a followed link's checkpoint parses");
            Seen {
                source: format!("the key history of {source}, epoch {}", link.epoch),
                note,
                size: cp.size,
                root: cp.root,
            }
        };
        let json = |link: &Link| serde_json::to_string_pretty(link).expect("a link serializes");
        SplitView {
            reason: format!(
                "two key histories approve different changes for epoch {}, each with the votes of more than two thirds of the validators of epoch {}",
                c.epoch,
                c.epoch - 1
            ),
            a: seen(&c.known, known),
            b: seen(&c.other, other),
            proofs: Vec::new(),
            links: vec![
                (known.to_string(), json(&c.known)),
                (other.to_string(), json(&c.other)),
            ],
        }
    }
}

/// The monitor's memory: the largest consistent checkpoint seen.
pub struct State {
    dir: PathBuf,
    /// The latest checkpoint, if any.
    pub latest: Option<Seen>,
}

impl State {
    /// Loads (or starts) the state in `dir`: follows the key history kept there, then
    /// re-verifies the kept checkpoint.
    pub fn load(dir: &Path, trust: &mut Trust) -> anyhow::Result<State> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        trust.load(dir)?.map_err(anyhow::Error::msg)?;
        let path = dir.join("latest-checkpoint");
        let latest = match std::fs::read(&path) {
            Ok(note) => {
                let cp = trust.verify(&note).with_context(|| {
                    format!(
                        "{} does not verify under this genesis: a state of another network?",
                        path.display()
                    )
                })?;
                Some(Seen {
                    source: "state".into(),
                    size: cp.checkpoint.size,
                    root: cp.checkpoint.root,
                    note,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(State {
            dir: dir.to_path_buf(),
            latest,
        })
    }

    /// Writes the key history followed, then the latest checkpoint (which may need it).
    fn save(&self, trust: &Trust) -> anyhow::Result<()> {
        trust.save(&self.dir)?;
        let Some(latest) = &self.latest else {
            return Ok(());
        };
        let path = self.dir.join("latest-checkpoint");
        let tmp = self.dir.join("latest-checkpoint.tmp");
        std::fs::write(&tmp, &latest.note).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Poll {
    /// Verified checkpoints, by node.
    pub seen: Vec<Seen>,
    /// Nodes that did not answer or whose checkpoint does not verify, with why.
    pub problems: Vec<(String, String)>,
    /// Epochs added to the key history followed.
    pub followed: u64,
    /// A node's key history that approves another change for an epoch than the one followed.
    pub conflict: Option<Box<SplitView>>,
}

fn consistency_proof(node: &dyn Fetch, old: u64, new: u64) -> Result<Vec<Hash>, String> {
    let body = node
        .get(
            &format!("v1/proof/consistency?old={old}&new={new}"),
            PROOF_BYTES_MAX,
        )
        .map_err(|e| e.to_string())?
        .ok_or("no such proof (HTTP 404)")?;
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let list = v["proof"].as_array().ok_or("no proof in the answer")?;
    if list.len() > PROOF_HASHES_MAX {
        return Err("too many proof hashes".into());
    }
    list.iter()
        .map(|h| h.as_str().and_then(Hash::from_base64))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| "a proof hash is not base64".into())
}

/// Checks that `a` and `b` can both be true: equal roots at equal sizes, else a consistency
/// proof from the smaller to the larger that verifies, asked of every node in turn.
pub fn consistent(
    a: &Seen,
    b: &Seen,
    nodes: &[(String, Box<dyn Fetch>)],
) -> Result<(), Box<SplitView>> {
    let (small, large) = if a.size <= b.size { (a, b) } else { (b, a) };
    if small.size == large.size {
        if small.root == large.root {
            return Ok(());
        }
        return Err(Box::new(SplitView {
            reason: format!(
                "two quorum-signed checkpoints of size {} have different roots",
                small.size
            ),
            a: small.clone(),
            b: large.clone(),
            proofs: Vec::new(),
            links: Vec::new(),
        }));
    }
    let mut tried = Vec::new();
    // The node that presented the larger checkpoint must be able to prove it: ask it first.
    let mut order: Vec<&(String, Box<dyn Fetch>)> = nodes.iter().collect();
    order.sort_by_key(|(url, _)| *url != large.source);
    for (url, node) in order {
        match consistency_proof(node.as_ref(), small.size.0, large.size.0) {
            Ok(proof) => {
                if verify_consistency(small.size, large.size, &small.root, &large.root, &proof)
                    .is_ok()
                {
                    return Ok(());
                }
                tried.push((url.clone(), proof));
            }
            // A node that cannot answer proves nothing either way.
            Err(e) => eprintln!(
                "note: {url}: consistency proof {}→{}: {e}",
                small.size, large.size
            ),
        }
    }
    if tried.is_empty() {
        // No node gave any proof: nothing is proven wrong, and nothing is proven right yet.
        eprintln!(
            "WARNING: no node gave a consistency proof {}→{}, not even {} which signed size {}; will ask again",
            small.size, large.size, large.source, large.size
        );
        return Ok(());
    }
    Err(Box::new(SplitView {
        reason: format!(
            "the quorum-signed checkpoint of size {} does not extend the one of size {}: no consistency proof verifies",
            large.size, small.size
        ),
        a: small.clone(),
        b: large.clone(),
        proofs: tried,
        links: Vec::new(),
    }))
}

/// Fetches and verifies every node's checkpoint; a checkpoint that calls for a newer key
/// history ([`Trust::wants_newer`]) makes the monitor follow that node's first.
pub fn poll(nodes: &[(String, Box<dyn Fetch>)], trust: &mut Trust) -> Poll {
    let mut out = Poll::default();
    for (url, node) in nodes {
        let note = match node.get("checkpoint", CHECKPOINT_BYTES_MAX) {
            Ok(Some(note)) => note,
            Ok(None) => {
                out.problems
                    .push((url.clone(), "no checkpoint (HTTP 404)".into()));
                continue;
            }
            Err(e) => {
                out.problems.push((url.clone(), e.to_string()));
                continue;
            }
        };
        if trust.wants_newer(&note) {
            follow(url, node.as_ref(), trust, &mut out);
            if out.conflict.is_some() {
                return out;
            }
        }
        match trust.verify(&note) {
            Ok(cp) => out.seen.push(Seen {
                source: url.clone(),
                size: cp.checkpoint.size,
                root: cp.checkpoint.root,
                note,
            }),
            Err(e) => out.problems.push((
                url.clone(),
                format!(
                    "its checkpoint does not verify: {}",
                    trust.why(&note, &e, ADVICE)
                ),
            )),
        }
    }
    out
}

/// Follows the key history of the node at `url`, noting what became of it in `out`.
fn follow(url: &str, node: &dyn Fetch, trust: &mut Trust, out: &mut Poll) {
    let bytes = match keys::fetch_key_history(node) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return,
        Err(e) => {
            out.problems
                .push((url.to_string(), format!("its key history: {e}")));
            return;
        }
    };
    match trust.follow(&bytes) {
        Ok(0) => {}
        Ok(added) => {
            eprintln!(
                "monitor: followed {added} governance changes from the key history of {url}: now epoch {}",
                trust.epoch()
            );
            out.followed += added;
        }
        Err(FollowError::Conflict(c)) => {
            out.conflict = Some(Box::new(SplitView::of_conflict(
                &c,
                "the key history followed so far",
                url,
            )));
        }
        Err(e) => out.problems.push((
            url.to_string(),
            format!("its key history does not follow from the genesis: {e}"),
        )),
    }
}

/// One poll against the state: every verified checkpoint against the kept one and against
/// each other; the state moves to the largest. Returns the split view if there is one.
pub fn step(
    state: &mut State,
    nodes: &[(String, Box<dyn Fetch>)],
    trust: &mut Trust,
) -> anyhow::Result<Result<Poll, Box<SplitView>>> {
    let mut p = poll(nodes, trust);
    if let Some(split) = p.conflict.take() {
        return Ok(Err(split));
    }
    if p.followed > 0 {
        trust.save(&state.dir)?;
    }
    let mut all: Vec<&Seen> = state.latest.iter().chain(&p.seen).collect();
    all.sort_by_key(|s| s.size);
    // Equal sizes anywhere are compared directly; then each checkpoint against the next
    // larger one, which by transitivity covers every pair.
    let mut by_size: BTreeMap<TreeSize, &Seen> = BTreeMap::new();
    for s in &all {
        if let Some(other) = by_size.get(&s.size)
            && let Err(split) = consistent(other, s, nodes)
        {
            return Ok(Err(split));
        }
        by_size.entry(s.size).or_insert(s);
    }
    let distinct: Vec<&Seen> = by_size.values().copied().collect();
    for pair in distinct.windows(2) {
        if let Err(split) = consistent(pair[0], pair[1], nodes) {
            return Ok(Err(split));
        }
    }
    if let Some(largest) = distinct.last()
        && state.latest.as_ref().is_none_or(|l| largest.size > l.size)
    {
        state.latest = Some((*largest).clone());
        state.save(trust)?;
    }
    Ok(Ok(p))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs `monitor`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let genesis = std::fs::read(&args.genesis)
        .with_context(|| format!("reading {}", args.genesis.display()))?;
    let network = Network::from_bytes(&genesis)
        .with_context(|| format!("{} is not a valid genesis", args.genesis.display()))?;
    let mut trust = Trust::genesis(&network);
    let mut nodes: Vec<(String, Box<dyn Fetch>)> = Vec::new();
    for url in &args.nodes {
        let node = HttpLog::new(url, Duration::from_secs(args.timeout_secs))
            .map_err(|f| anyhow::anyhow!("{f}"))?;
        nodes.push((url.clone(), Box::new(node)));
    }
    let mut state = State::load(&args.state, &mut trust)?;
    if let Some(l) = &state.latest {
        eprintln!(
            "monitor: resuming from size {} (root {})",
            l.size,
            l.root.to_base64()
        );
    }
    loop {
        match step(&mut state, &nodes, &mut trust)? {
            Ok(p) => {
                for (url, why) in &p.problems {
                    eprintln!("warning: {url}: {why}");
                }
                if p.seen.is_empty() {
                    if args.once {
                        bail!("no node answered with a checkpoint that verifies");
                    }
                } else {
                    let sizes: Vec<String> = p
                        .seen
                        .iter()
                        .map(|s| format!("{}={}", s.source, s.size))
                        .collect();
                    let latest = state.latest.as_ref().expect("set by a verified checkpoint");
                    println!(
                        "OK consistent: latest size={} root={} ({})",
                        latest.size,
                        latest.root.to_base64(),
                        sizes.join(" ")
                    );
                }
            }
            Err(split) => {
                let at = now();
                let path = args.state.join(format!("evidence-{at}.txt"));
                std::fs::write(&path, split.evidence(at))
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("\n!!!!!!!! SPLIT VIEW DETECTED !!!!!!!!");
                eprintln!("{}", split.reason);
                eprintln!("  A: size {} from {}", split.a.size, split.a.source);
                eprintln!("  B: size {} from {}", split.b.size, split.b.source);
                eprintln!(
                    "evidence (both signed checkpoints and the proofs): {}",
                    path.display()
                );
                eprintln!("Publish it: the validators that signed both cannot deny it.");
                return Ok(ExitCode::from(1));
            }
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::ledger_world::*;

    fn nodes(served: Vec<(&str, Served)>) -> Vec<(String, Box<dyn Fetch>)> {
        served
            .into_iter()
            .map(|(url, s)| (url.to_string(), Box::new(s) as Box<dyn Fetch>))
            .collect()
    }

    #[test]
    fn the_monitor_follows_the_key_history_and_keeps_it() {
        let g = governed_world();
        let served = |history: bool| {
            let mut files = g.world.tiles(g.checkpoint.clone());
            if history {
                files.insert("key-history".into(), g.history.clone());
            }
            Served(files)
        };
        let dir = tempfile::tempdir().unwrap();
        let mut trust = Trust::genesis(&g.world.network);
        let mut state = State::load(dir.path(), &mut trust).unwrap();
        // The first node's history is followed; the second, which serves none, is then
        // checked with what the first taught.
        let list = nodes(vec![("a", served(true)), ("b", served(false))]);
        let p = step(&mut state, &list, &mut trust).unwrap().unwrap();
        assert_eq!(p.seen.len(), 2, "{:?}", p.problems);
        assert_eq!(p.followed, 3);
        assert_eq!(trust.epoch(), 3);
        // Without any history, the later epoch's checkpoint is a node to distrust, not a fork.
        let mut fresh = Trust::genesis(&g.world.network);
        let p = poll(&nodes(vec![("b", served(false))]), &mut fresh);
        assert!(p.seen.is_empty());
        assert!(p.problems[0].1.contains("bank9"), "{:?}", p.problems);

        // The state verifies again from the genesis alone.
        let mut again = Trust::genesis(&g.world.network);
        let kept = State::load(dir.path(), &mut again).unwrap();
        assert_eq!(again.epoch(), 3);
        assert_eq!(kept.latest.unwrap().size.0, g.world.leaves.len() as u64);

        // A node on another governance history: its checkpoint is signed by a member the
        // other history added, so its key history is fetched, and it disagrees at epoch 1.
        let other = conflicting_link(&g.world, g.starts[0]);
        let mut files = g.world.tiles(other.checkpoint.clone().into_bytes());
        files.insert("key-history".into(), g.world.history(vec![other]));
        let list = nodes(vec![("c", Served(files))]);
        let split = step(&mut state, &list, &mut trust).unwrap().unwrap_err();
        let evidence = split.evidence(1);
        assert!(split.reason.contains("epoch 1"), "{}", split.reason);
        assert!(
            evidence.contains("--- key history link from c ---"),
            "{evidence}"
        );
        assert!(
            evidence.contains("two changes were approved for one epoch"),
            "{evidence}"
        );
    }
}
