//! Witness cosignatures on the served checkpoint: a client of C2SP tlog-witness v1.0.0.
//!
//! With `[[witnesses]]` in `node.toml`, the checkpoint the consensus loop publishes is not served
//! at once: a background task sends it to every witness (`POST <url>/add-checkpoint` with the
//! consistency proof from the size that witness last cosigned, computed from this node's
//! store), checks each answer against the witness's configured cosignature key, and then serves
//! the checkpoint with the validators' signatures followed by the witnesses' cosignature lines.
//! Until then the previous served checkpoint stays (a smaller tree is still a true one). A
//! witness that is down, slow or refuses costs at most [`WITNESS_TIMEOUT_MS`] per round and a
//! log line: the checkpoint is then served with the cosignatures that did arrive. Nothing here
//! runs on the consensus thread or can stop the node.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bansos_ledger::log::LogReader;
use bansos_store::RedbStore;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::{KeyKind, Note, NoteSignature, Policy, VerifierKey};
use bansos_verifier::tlog_witness::{
    ADD_CHECKPOINT_PROOF_HASHES_MAX, AddCheckpoint, cosigned_note, parse_size_body,
};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::http::Published;

/// Most witnesses a node asks.
pub const WITNESSES_MAX: usize = 16;
/// Longest wait for one witness's answer (connection included).
pub const WITNESS_TIMEOUT_MS: u64 = 3_000;
/// How often the task looks for a newly published checkpoint.
pub const POLL_INTERVAL_MS: u64 = 100;
/// How long before witnesses that did not cosign the current checkpoint are asked again, when
/// the log does not move on by itself (a witness down at the time would otherwise wait for the
/// next block that grows the log, and a policy that requires it would refuse until then).
pub const RETRY_SECS: u64 = 5;
/// Largest answer read from a witness (a few cosignature lines).
pub const ANSWER_BYTES_MAX: u64 = 16 * 1024;

/// One `[[witnesses]]` entry of `node.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The witness's base URL; requests go to `<url>/add-checkpoint`.
    pub url: String,
    /// Its cosignature verifier key (type `0x04`), as `bansos-witness keygen` prints it.
    pub vkey: String,
}

/// A configured witness and what this node knows of it.
#[derive(Clone)]
struct Witness {
    url: String,
    vkey: VerifierKey,
    policy: Policy,
    /// The size of the latest checkpoint it cosigned, as far as this node knows (0 at start;
    /// learned from its 409 answers).
    old: TreeSize,
}

/// Checks the `[[witnesses]]` entries: URLs and cosignature keys.
pub fn check_config(configs: &[WitnessConfig]) -> anyhow::Result<()> {
    parse(configs).map(|_| ())
}

/// The witnesses of the roster that can be asked (an unusable URL is logged and skipped: the
/// members voted it, the node cannot refuse to start over it).
fn parse_each(configs: &[WitnessConfig]) -> Vec<Witness> {
    configs
        .iter()
        .filter_map(|c| match parse(std::slice::from_ref(c)) {
            Ok(mut w) => w.pop(),
            Err(e) => {
                tracing::warn!(error = %e, "a witness the members named cannot be asked");
                None
            }
        })
        .collect()
}

fn parse(configs: &[WitnessConfig]) -> anyhow::Result<Vec<Witness>> {
    if configs.len() > WITNESSES_MAX {
        bail!("at most {WITNESSES_MAX} [[witnesses]] are supported");
    }
    configs
        .iter()
        .map(|c| {
            if !(c.url.starts_with("http://") || c.url.starts_with("https://")) {
                bail!(
                    "witness url {:?} must start with http:// or https://",
                    c.url
                );
            }
            let vkey = VerifierKey::parse(&c.vkey)
                .map_err(|e| anyhow::anyhow!("witness {}: vkey: {e}", c.url))?;
            if vkey.kind() != KeyKind::Cosignature {
                bail!(
                    "witness {}: the vkey must be a cosignature key (type 0x04)",
                    c.url
                );
            }
            Ok(Witness {
                url: c.url.trim_end_matches('/').to_string(),
                policy: Policy::new(vec![vkey.clone()], 1).expect("one key, quorum 1"),
                vkey,
                old: TreeSize(0),
            })
        })
        .collect()
}

/// The checkpoint the API serves. Without witnesses it is `published` itself; with witnesses,
/// a copy that a background task updates with each published checkpoint once the witnesses
/// have answered.
pub async fn start(
    configs: &[WitnessConfig],
    roster: &[WitnessConfig],
    store: RedbStore,
    published: Arc<RwLock<Published>>,
) -> anyhow::Result<Arc<RwLock<Published>>> {
    let configured = parse(configs)?;
    let mut witnesses = configured.clone();
    for w in parse_each(roster) {
        if !witnesses.iter().any(|c| c.vkey == w.vkey) {
            witnesses.push(w);
        }
    }
    // Without witnesses the API serves the published checkpoint itself, with no lag. A witness
    // that governance adds later is asked from the node's next start (docs/OPERATIONS.md).
    if witnesses.is_empty() {
        return Ok(published);
    }
    let served = {
        let p = published.read().await;
        Arc::new(RwLock::new(Published {
            note: p.note.clone(),
            size: p.size,
        }))
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(WITNESS_TIMEOUT_MS)))
        .http_status_as_error(false)
        .build()
        .into();
    tokio::spawn(run(
        configured,
        witnesses,
        agent,
        store,
        published,
        served.clone(),
    ));
    Ok(served)
}

/// The witnesses to ask: those of `node.toml` and those the members in force name (genesis or
/// governance), keeping what is known of each (the size it last cosigned).
fn follow_roster(configured: &[Witness], asked: Vec<Witness>, store: &RedbStore) -> Vec<Witness> {
    use bansos_ledger::store::StateRead as _;
    let roster: Vec<WitnessConfig> = match store.governance() {
        Ok(Some(g)) => g
            .roster
            .witnesses
            .iter()
            .map(|w| WitnessConfig {
                url: w.url.clone(),
                vkey: w.vkey.clone(),
            })
            .collect(),
        // Before any change the genesis witnesses apply: the ones asked from the start.
        Ok(None) => return asked,
        Err(e) => {
            tracing::error!(error = %e, "reading the governance state for the witnesses");
            return asked;
        }
    };
    let mut wanted: Vec<Witness> = configured.to_vec();
    for w in parse_each(&roster) {
        if !wanted.iter().any(|c| c.vkey == w.vkey) {
            wanted.push(w);
        }
    }
    for w in &mut wanted {
        if let Some(known) = asked.iter().find(|a| a.vkey == w.vkey) {
            w.old = known.old;
        }
    }
    wanted.truncate(WITNESSES_MAX);
    wanted
}

async fn run(
    configured: Vec<Witness>,
    mut witnesses: Vec<Witness>,
    agent: ureq::Agent,
    store: RedbStore,
    published: Arc<RwLock<Published>>,
    served: Arc<RwLock<Published>>,
) {
    let mut seen: Vec<u8> = Vec::new();
    // The body last sent to the witnesses and the cosignatures it got.
    let mut cosigned: Option<(String, Vec<NoteSignature>)> = None;
    let mut asked_at = Instant::now();
    loop {
        let missing = cosigned
            .as_ref()
            .is_some_and(|(_, sigs)| sigs.len() < witnesses.len());
        let retry = missing && asked_at.elapsed() >= Duration::from_secs(RETRY_SECS);
        let (note, size) = {
            let p = published.read().await;
            if p.note == seen && !retry {
                drop(p);
                tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
                continue;
            }
            (p.note.clone(), p.size)
        };
        seen = note.clone();
        witnesses = follow_roster(&configured, witnesses, &store);
        if witnesses.is_empty() {
            *served.write().await = Published { note, size };
            continue;
        }
        let Ok(parsed) = Note::parse(&note) else {
            continue; // nothing published yet
        };
        let body = parsed.text().to_string();
        if retry || cosigned.as_ref().is_none_or(|(b, _)| *b != body) {
            asked_at = Instant::now();
            let store = store.clone();
            let agent = agent.clone();
            let text = body.clone();
            let asked = tokio::task::spawn_blocking(move || {
                let sigs = ask_all(&agent, &mut witnesses, &store, &note, &text, size);
                (witnesses, sigs)
            })
            .await;
            let Ok((back, sigs)) = asked else {
                tracing::error!("the witness task panicked; serving checkpoints without witnesses");
                *served.write().await = copy(&*published.read().await);
                return;
            };
            witnesses = back;
            cosigned = Some((body, sigs));
        }
        let mut merged = parsed;
        for s in cosigned.iter().flat_map(|(_, sigs)| sigs) {
            merged.add_signature(s.clone());
        }
        *served.write().await = Published {
            note: merged.to_bytes(),
            size,
        };
    }
}

fn copy(p: &Published) -> Published {
    Published {
        note: p.note.clone(),
        size: p.size,
    }
}

/// Asks every witness in parallel; returns the cosignatures that verified.
fn ask_all(
    agent: &ureq::Agent,
    witnesses: &mut [Witness],
    store: &RedbStore,
    note: &[u8],
    text: &str,
    size: TreeSize,
) -> Vec<NoteSignature> {
    let proof = |old: TreeSize| -> anyhow::Result<Vec<Hash>> {
        let snap = store.snapshot()?;
        let reader = LogReader::new(&snap)?;
        Ok(reader.consistency_proof(old, size)?)
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = witnesses
            .iter_mut()
            .map(|w| s.spawn(|| ask(agent, w, &proof, note, text, size)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    })
}

/// One witness: at most one retry, after a 409 taught us its size.
fn ask(
    agent: &ureq::Agent,
    w: &mut Witness,
    proof: &dyn Fn(TreeSize) -> anyhow::Result<Vec<Hash>>,
    note: &[u8],
    text: &str,
    size: TreeSize,
) -> Option<NoteSignature> {
    for _ in 0..2 {
        if w.old > size {
            tracing::debug!(witness = %w.url, witness_size = w.old.0, size = size.0,
                "the witness has cosigned a larger checkpoint; waiting for this node to catch up");
            return None;
        }
        let result = (|| -> anyhow::Result<Result<NoteSignature, TreeSize>> {
            let proof = proof(w.old).context("computing the consistency proof")?;
            assert!(proof.len() <= ADD_CHECKPOINT_PROOF_HASHES_MAX);
            let body = AddCheckpoint {
                old: w.old,
                proof,
                checkpoint: note.to_vec(),
            }
            .to_bytes();
            let mut r = agent
                .post(&format!("{}/add-checkpoint", w.url))
                .header("content-type", "text/plain; charset=utf-8")
                .send(&body[..])
                .context("sending add-checkpoint")?;
            let status = r.status().as_u16();
            let answer = r
                .body_mut()
                .with_config()
                .limit(ANSWER_BYTES_MAX)
                .read_to_vec()
                .context("reading the answer")?;
            match status {
                200 => {
                    let cosigned = cosigned_note(text, &answer)
                        .context("the answer is not cosignature lines")?;
                    w.policy
                        .verify(&cosigned)
                        .context("the cosignature does not verify with the configured vkey")?;
                    let sig = cosigned
                        .signatures()
                        .iter()
                        .find(|s| s.name == w.vkey.name() && s.key_id == w.vkey.key_id())
                        .cloned()
                        .expect("a verified policy of one key found its signature");
                    Ok(Ok(sig))
                }
                409 => Ok(Err(
                    parse_size_body(&answer).context("a 409 answer without a size")?
                )),
                _ => bail!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&answer[..answer.len().min(300)]).trim()
                ),
            }
        })();
        match result {
            Ok(Ok(sig)) => {
                w.old = size;
                tracing::debug!(witness = %w.url, size = size.0, "cosigned");
                return Some(sig);
            }
            Ok(Err(latest)) => {
                tracing::info!(witness = %w.url, from = w.old.0, to = latest.0,
                    "learned the witness's latest size");
                w.old = latest;
            }
            Err(e) => {
                tracing::warn!(witness = %w.url, size = size.0, error = %format!("{e:#}"),
                    "the witness did not cosign");
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn witness_entries_are_checked() {
        let key = SigningKey::from_bytes(&[5; 32]).verifying_key();
        let cosigner = VerifierKey::new("w.example", KeyKind::Cosignature, key).to_string();
        let plain = VerifierKey::new("w.example", KeyKind::Ed25519, key).to_string();
        let entry = |url: &str, vkey: &str| WitnessConfig {
            url: url.into(),
            vkey: vkey.into(),
        };
        let ok = parse(&[entry("http://127.0.0.1:9/", &cosigner)]).unwrap();
        assert_eq!(ok[0].url, "http://127.0.0.1:9");
        assert_eq!(ok[0].old, TreeSize(0));
        for bad in [
            vec![entry("127.0.0.1:9", &cosigner)],
            vec![entry("http://127.0.0.1:9", &plain)],
            vec![entry("http://127.0.0.1:9", "not a vkey")],
            vec![entry("http://127.0.0.1:9", &cosigner); WITNESSES_MAX + 1],
        ] {
            assert!(parse(&bad).is_err());
        }
        let toml: crate::node::NodeConfig = toml::from_str(&format!(
            "genesis = \"g\"\nkey = \"k\"\ndata_dir = \"d\"\nhttp_listen = \"127.0.0.1:1\"\n\
             [[witnesses]]\nurl = \"http://127.0.0.1:9\"\nvkey = \"{cosigner}\"\n"
        ))
        .unwrap();
        assert_eq!(toml.witnesses.len(), 1);
    }
}
