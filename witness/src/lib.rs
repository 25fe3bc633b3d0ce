//! A C2SP tlog-witness (v1.0.0) for one Bansos Ledger network: it cosigns (tlog-cosignature
//! v1, Ed25519 type `0x04`) a checkpoint of this network's log only when a quorum of the
//! validators of its epoch signed it and it is consistent with the latest checkpoint the
//! witness cosigned before. Its state is that one checkpoint, kept in a file written durably
//! before any cosignature on a larger tree leaves the process, and the key history it followed.
//!
//! The validators may change by governance (docs/AUDIT.md, "Governance"). The witness starts
//! from the genesis validators; when a checkpoint does not verify with the epochs it knows, or
//! is signed by keys the latest one lacks, it asks the log for its key history
//! ([`KeyHistorySource`]: `GET <log>/key-history`, at most once every
//! [`KEY_HISTORY_FETCH_SECS_MIN`] seconds), follows it from the genesis keys (each change
//! checked against the votes of the validators of the epoch before), keeps it durably in the
//! state directory (`key-history`, before any cosignature that needs it), and checks the
//! checkpoint again. It only ever extends the history it holds: one that disagrees with it is
//! not followed. Pulled, not pushed: the witness needs no new endpoint, and the log's nodes
//! already serve the history to everyone.
//!
//! [`Witness`] is the protocol without transport: request bytes and the time in, cosignature
//! lines or a [`Refusal`] (with the spec's status code) out. [`server`] puts it behind HTTP.
//! Every format it reads or writes (signed notes, checkpoints, consistency proofs, the
//! add-checkpoint body) is parsed and checked by `bansos-verifier`; nothing here re-implements
//! one. It knows nothing of consensus, the store or the ledger rules.

pub mod key_history;
pub mod server;

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bansos_genesis::Network;
use bansos_verifier::checkpoint::{CheckpointError, VerifiedCheckpoint};
use bansos_verifier::entry::NetworkId;
use bansos_verifier::governance::{KEY_HISTORY_BYTES_MAX, KeyHistory, KeyHistoryFile};
use bansos_verifier::hash::{EMPTY_ROOT, Hash, TreeSize};
use bansos_verifier::merkle::{ProofError, verify_consistency};
use bansos_verifier::note::{KeyKind, Note, NoteError, NoteSignature, SignerKey, VerifierKey};
use bansos_verifier::tlog_witness::AddCheckpoint;

/// Name of the state file in the state directory: the latest cosigned checkpoint as a signed
/// note (the validators' signatures and this witness's cosignature).
pub const STATE_FILE: &str = "checkpoint";
/// Name of the lock file that keeps a second witness process off the same state directory.
pub const LOCK_FILE: &str = "lock";
/// Name of the file `init` writes into a new state directory: this witness has cosigned
/// nothing yet. It is removed with the first state written, so a state file lost later is
/// never taken for a new witness.
pub const NEW_MARKER: &str = "new";
/// Name of the key history file in the state directory: the validators' changes followed
/// since genesis (a node's `/key-history` document), written only once there is one.
pub const KEY_HISTORY_FILE: &str = "key-history";
/// Fewest seconds between two requests for the log's key history: a stream of checkpoints
/// signed by unknown keys (anyone can post one) cannot make the witness hammer the log.
pub const KEY_HISTORY_FETCH_SECS_MIN: u64 = 5;

/// Where the witness asks for the log's key history.
pub trait KeyHistorySource: Send + Sync {
    /// The key history document the log serves (`GET <log>/key-history`), `Ok(None)` when it
    /// serves none, or why it could not be had.
    fn fetch(&self) -> Result<Option<Vec<u8>>, String>;
}

/// The witness's cosignature verifier key (type `0x04`) for its key.
///
/// The key file is the Go `note` private key text form (`PRIVATE+KEY+name+id+base64(0x01 ‖
/// seed)`, as [`SignerKey`] reads it); the key is only ever used for cosignatures, whose key ID
/// differs from that of a plain Ed25519 signature by the same key.
pub fn cosigner_vkey(key: &SignerKey) -> VerifierKey {
    VerifierKey::new(
        key.name(),
        KeyKind::Cosignature,
        key.signing_key().verifying_key(),
    )
}

/// Why a request was not cosigned, grouped by the status code C2SP tlog-witness v1.0.0 gives
/// it (see [`Refusal::status`]).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The body is not an add-checkpoint request, or its note or checkpoint is malformed: 400.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The checkpoint is not of this network's log: 404.
    #[error("unknown log origin {0:?}: this witness only cosigns its network's log")]
    UnknownOrigin(String),
    /// Not signed by a quorum of the genesis validators, or a validator's signature fails: 403.
    #[error("the checkpoint is not signed by a quorum of the validators: {0}")]
    NotSigned(NoteError),
    /// `old` is larger than the checkpoint's size: 400.
    #[error("old size {old} is larger than the checkpoint's size {size}")]
    OldAfterNew {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// `old` is not the size of the latest checkpoint this witness cosigned: 409, body
    /// `<latest>\n`. The client should retry with `old` = `latest` and a proof from there.
    #[error("old size {old} is not the witness's latest size {latest}")]
    OldSizeConflict {
        /// The request's old size.
        old: u64,
        /// The latest cosigned size.
        latest: TreeSize,
    },
    /// The checkpoint has the latest cosigned size but another root: 409 (v1.0.0; `main` of the
    /// spec says 422). Two roots at one size are a fork: never cosigned.
    #[error("the checkpoint has the witness's latest size {latest} but another root")]
    RootConflict {
        /// The latest cosigned size.
        latest: TreeSize,
    },
    /// The consistency proof from the latest cosigned checkpoint does not verify: 422.
    #[error("the consistency proof from size {old} does not verify: {proof}")]
    Inconsistent {
        /// The request's old size.
        old: u64,
        /// How it fails.
        proof: ProofError,
    },
    /// The state could not be written: 500; nothing was cosigned. Retry later.
    #[error("the witness could not persist its state: {0}")]
    Storage(std::io::Error),
}

impl Refusal {
    /// The HTTP status of C2SP tlog-witness v1.0.0 ("Responses" table).
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldAfterNew { .. } => 400,
            Refusal::NotSigned(_) => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::OldSizeConflict { .. } | Refusal::RootConflict { .. } => 409,
            Refusal::Inconsistent { .. } => 422,
            Refusal::Storage(_) => 500,
        }
    }

    /// A machine-readable code for logs and JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::UnknownOrigin(_) => "unknown_origin",
            Refusal::NotSigned(_) => "not_signed",
            Refusal::OldAfterNew { .. } => "old_after_new",
            Refusal::OldSizeConflict { .. } => "old_size_conflict",
            Refusal::RootConflict { .. } => "root_conflict",
            Refusal::Inconsistent { .. } => "inconsistent",
            Refusal::Storage(_) => "storage",
        }
    }

    /// The size a 409 answer carries.
    pub fn latest_size(&self) -> Option<TreeSize> {
        match self {
            Refusal::OldSizeConflict { latest, .. } | Refusal::RootConflict { latest } => {
                Some(*latest)
            }
            _ => None,
        }
    }
}

/// Why a witness could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The state directory cannot be used.
    #[error("the state directory {path}: {source}")]
    Io {
        /// What was being accessed.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Another witness process holds the state directory.
    #[error("another witness process uses the state directory {0}")]
    Locked(PathBuf),
    /// The state directory holds no state and was not made by `init`: the state was lost, or
    /// this is a new witness that nobody initialised. Starting from size 0 would let the log
    /// (or anyone with a quorum of old keys) have a fork cosigned, so it is the operator's call.
    #[error(
        "the state directory {0} holds no cosigned checkpoint: if this witness has never \
         cosigned, create its state with `bansos-witness init --state {0}`; if the state was \
         lost, restore it from a backup instead (a witness that forgets what it cosigned can be \
         made to cosign a fork)"
    )]
    NoState(PathBuf),
    /// `init` was asked to start a new state where one exists.
    #[error("the state directory {0} already holds a cosigned checkpoint: it is kept as it is")]
    HasState(PathBuf),
    /// The state file is not a checkpoint of this log signed by a quorum of its validators:
    /// it was damaged or belongs to another network. It is never overwritten silently.
    #[error("the state file {path} is not a valid checkpoint of this log: {source}")]
    BadState {
        /// The file.
        path: PathBuf,
        /// Why.
        source: CheckpointError,
    },
    /// The key history file does not follow from the genesis: damaged, or of another network.
    #[error("the key history file {path} does not follow from this genesis: {why}")]
    BadHistory {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// The latest checkpoint cosigned: the state that must never go back.
struct Latest {
    size: TreeSize,
    root: Hash,
    /// The note served at `GET /checkpoint`: validators' signatures and this cosignature.
    note: Option<Vec<u8>>,
}

/// A witness for one network's log.
pub struct Witness {
    origin: String,
    network: NetworkId,
    /// The validators of every epoch followed, the genesis ones first.
    history: Mutex<KeyHistory>,
    /// Where to ask for a newer key history, if anywhere.
    source: Option<Box<dyn KeyHistorySource>>,
    /// When the key history was last asked for (the request's time).
    fetched_at: Mutex<Option<u64>>,
    key: SignerKey,
    vkey: VerifierKey,
    dir: PathBuf,
    /// Held for the process's lifetime: the OS lock on [`LOCK_FILE`].
    _lock: File,
    /// The check against the latest state and its update happen under this lock, so two
    /// requests cannot both pass the size check and roll the state back.
    latest: Mutex<Latest>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Witness {
    /// Starts a new state in `dir` (created if missing): a witness that has cosigned nothing.
    /// Refused if `dir` already holds a cosigned checkpoint.
    pub fn init(dir: &Path) -> Result<(), OpenError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        if dir.join(STATE_FILE).exists() {
            return Err(OpenError::HasState(dir.into()));
        }
        let marker = dir.join(NEW_MARKER);
        File::create(&marker)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&marker))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))
    }

    /// Opens the state directory `dir` for `network`'s log, trusting its genesis validators'
    /// checkpoint keys with its checkpoint quorum and the key history kept in `dir`, and
    /// cosigning with `key`. The directory holds the latest cosigned checkpoint, or was made by
    /// [`Witness::init`]; anything else is refused ([`OpenError::NoState`]).
    pub fn open(network: &Network, key: SignerKey, dir: &Path) -> Result<Witness, OpenError> {
        let origin = network.genesis.origin.clone();
        let mut history = KeyHistory::new(network.genesis_roster());
        if !dir.is_dir() {
            return Err(OpenError::NoState(dir.into()));
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::Locked(dir.into())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let history_path = dir.join(KEY_HISTORY_FILE);
        match std::fs::read(&history_path) {
            Ok(bytes) => {
                history
                    .follow(&network.id, &origin, &bytes)
                    .map_err(|e| OpenError::BadHistory {
                        path: history_path.clone(),
                        why: e.to_string(),
                    })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&history_path)(e)),
        }
        let state_path = dir.join(STATE_FILE);
        let latest = match std::fs::read(&state_path) {
            Ok(bytes) => {
                let vc = history
                    .verify_checkpoint(&bytes, Some(&origin), false)
                    .map_err(|source| OpenError::BadState {
                        path: state_path.clone(),
                        source,
                    })?;
                Latest {
                    size: vc.checkpoint.size,
                    root: vc.checkpoint.root,
                    note: Some(bytes),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !dir.join(NEW_MARKER).exists() {
                    return Err(OpenError::NoState(dir.into()));
                }
                Latest {
                    size: TreeSize(0),
                    root: EMPTY_ROOT,
                    note: None,
                }
            }
            Err(e) => return Err(io_err(&state_path)(e)),
        };
        Ok(Witness {
            origin,
            network: network.id,
            history: Mutex::new(history),
            source: None,
            fetched_at: Mutex::new(None),
            vkey: cosigner_vkey(&key),
            key,
            dir: dir.to_path_buf(),
            _lock: lock,
            latest: Mutex::new(latest),
        })
    }

    /// Asks `source` for the log's key history when a checkpoint calls for a newer one.
    pub fn with_key_history_source(mut self, source: Box<dyn KeyHistorySource>) -> Witness {
        self.source = Some(source);
        self
    }

    /// This witness's cosignature verifier key.
    pub fn vkey(&self) -> &VerifierKey {
        &self.vkey
    }

    /// The latest epoch of the key history followed (0: the genesis validators).
    pub fn epoch(&self) -> u64 {
        self.history.lock().expect("history lock").current().epoch
    }

    /// Checks a checkpoint against the validators of its epoch; if it fails, or is signed by
    /// keys the latest epoch lacks, follows the log's key history first (see the crate doc).
    fn verify(&self, note: &[u8], now: u64) -> Result<VerifiedCheckpoint, CheckpointError> {
        let (result, unknown) = {
            let history = self.history.lock().expect("history lock");
            let result = history.verify_checkpoint(note, Some(&self.origin), false);
            let known: Vec<VerifierKey> = history
                .current()
                .validator_vkeys()
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            (result, has_unknown_signer(note, &known))
        };
        if (result.is_ok() && !unknown) || !self.may_fetch(now) {
            return result;
        }
        self.follow_log();
        self.history
            .lock()
            .expect("history lock")
            .verify_checkpoint(note, Some(&self.origin), false)
    }

    /// Whether the key history may be asked for at `now`; if so, notes it.
    fn may_fetch(&self, now: u64) -> bool {
        if self.source.is_none() {
            return false;
        }
        let mut at = self.fetched_at.lock().expect("fetch time lock");
        if at.is_some_and(|t| now < t.saturating_add(KEY_HISTORY_FETCH_SECS_MIN) && now >= t) {
            return false;
        }
        *at = Some(now);
        true
    }

    /// Asks the source for the key history and follows it if it extends the one held, which is
    /// kept durably first. Failures are logged: the checkpoint is then judged as before.
    fn follow_log(&self) {
        let Some(source) = &self.source else { return };
        let bytes = match source.fetch() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch the log's key history");
                return;
            }
        };
        let mut history = self.history.lock().expect("history lock");
        match extend(&history, &self.network, &self.origin, &bytes) {
            Ok(Some(next)) => {
                let file = next.to_file(&self.network);
                let mut json = serde_json::to_vec_pretty(&file).expect("a key history serializes");
                json.push(b'\n');
                if let Err(e) = write_durably(&self.dir, KEY_HISTORY_FILE, &json) {
                    tracing::warn!(error = %e, "could not keep the key history; not followed");
                    return;
                }
                tracing::info!(
                    epoch = next.current().epoch,
                    "followed the log's key history: the validators changed"
                );
                *history = next;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the log's key history is not followed"),
        }
    }

    /// The size of the latest checkpoint cosigned (0 if none).
    pub fn latest_size(&self) -> TreeSize {
        self.latest.lock().expect("witness state lock").size
    }

    /// The latest cosigned checkpoint with its cosignature, if any.
    pub fn latest_note(&self) -> Option<Vec<u8>> {
        self.latest.lock().expect("witness state lock").note.clone()
    }

    /// Handles one `add-checkpoint` body at time `now` (POSIX seconds, the cosignature's
    /// timestamp): the checks of C2SP tlog-witness v1.0.0 in the order of its table; on success
    /// the new state is on disk before the cosignature line is returned.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<Vec<u8>, Refusal> {
        let request = AddCheckpoint::parse(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let vc = match self.verify(&request.checkpoint, now) {
            Ok(vc) => vc,
            Err(CheckpointError::WrongOrigin { got, .. }) => {
                return Err(Refusal::UnknownOrigin(got));
            }
            Err(CheckpointError::Note(e @ NoteError::Malformed(_))) => {
                return Err(Refusal::Malformed(e.to_string()));
            }
            Err(e @ CheckpointError::Malformed(_)) => {
                return Err(Refusal::Malformed(e.to_string()));
            }
            Err(CheckpointError::Note(e)) => return Err(Refusal::NotSigned(e)),
            Err(CheckpointError::TooFewWitnesses { verified, quorum }) => {
                return Err(Refusal::NotSigned(NoteError::TooFewSignatures {
                    verified,
                    quorum,
                }));
            }
        };
        let (size, root) = (vc.checkpoint.size, vc.checkpoint.root);
        if request.old > size {
            return Err(Refusal::OldAfterNew {
                old: request.old.0,
                size: size.0,
            });
        }
        let mut latest = self.latest.lock().expect("witness state lock");
        if request.old != latest.size {
            return Err(Refusal::OldSizeConflict {
                old: request.old.0,
                latest: latest.size,
            });
        }
        if size == latest.size && root != latest.root {
            return Err(Refusal::RootConflict {
                latest: latest.size,
            });
        }
        verify_consistency(latest.size, size, &latest.root, &root, &request.proof).map_err(
            |proof| Refusal::Inconsistent {
                old: request.old.0,
                proof,
            },
        )?;
        let cosignature =
            NoteSignature::cosign(self.key.name(), self.key.signing_key(), now, vc.note.text());
        let mut served = vc.note.clone();
        served.add_signature(cosignature.clone());
        let served = served.to_bytes();
        if size > latest.size || latest.note.is_none() {
            self.persist(&served).map_err(Refusal::Storage)?;
        }
        // At an unchanged size the state on disk already says the same (size, root).
        *latest = Latest {
            size,
            root,
            note: Some(served),
        };
        Ok(cosignature.to_line().into_bytes())
    }

    /// Writes the state file durably; then the new-witness marker goes.
    fn persist(&self, note: &[u8]) -> std::io::Result<()> {
        write_durably(&self.dir, STATE_FILE, note)?;
        match std::fs::remove_file(self.dir.join(NEW_MARKER)) {
            Ok(()) => File::open(&self.dir)?.sync_all(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Writes `dir/name` durably: a temporary file, fsync, rename, fsync of the directory.
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

/// The history after following `bytes` from `known`, if it adds epochs. Only an extension is
/// followed: a history that differs from `known` at an epoch both have is refused, whether or
/// not it holds up on its own (two approved changes for one epoch are for an auditor to
/// publish, not for a witness to pick from).
fn extend(
    known: &KeyHistory,
    network: &NetworkId,
    origin: &str,
    bytes: &[u8],
) -> Result<Option<KeyHistory>, String> {
    if bytes.len() > KEY_HISTORY_BYTES_MAX {
        return Err("the key history is larger than 4 MiB".into());
    }
    let file: KeyHistoryFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if let Some(i) = known
        .links()
        .iter()
        .zip(&file.links)
        .position(|(a, b)| a != b)
    {
        return Err(format!(
            "it disagrees with the key history this witness followed at epoch {}",
            known.links()[i].epoch
        ));
    }
    if file.links.len() <= known.links().len() {
        return Ok(None);
    }
    let mut next = known.clone();
    next.follow_file(network, origin, &file)
        .map_err(|e| e.to_string())?;
    Ok(Some(next))
}

/// Whether `note` carries an Ed25519 signature by a key none of `known` is (a member added or
/// a key rotated since the epochs known). Cosignatures are 8 bytes longer and not counted.
fn has_unknown_signer(note: &[u8], known: &[VerifierKey]) -> bool {
    const ED25519_SIGNATURE_BYTES: usize = 64;
    Note::parse(note).is_ok_and(|n| {
        n.signatures().iter().any(|s| {
            s.signature.len() == ED25519_SIGNATURE_BYTES
                && !known
                    .iter()
                    .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        })
    })
}
