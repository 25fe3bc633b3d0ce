//! The witness against the C2SP tlog-witness v1.0.0 table: every status code on constructed
//! requests (checkpoints signed by validator keys made here, consistency proofs from in-memory
//! leaves), the cosignature verified with the witness's key, the state kept across a restart,
//! the atomic check-and-update under concurrent requests, and the same over HTTP.

use std::path::Path;
use std::sync::Arc;

use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Network, Role};
use bansos_verifier::checkpoint::{Checkpoint, verify_checkpoint};
use bansos_verifier::entry::MemberId;
use bansos_verifier::hash::{Hash, TreeSize, leaf_hash};
use bansos_verifier::merkle::{consistency_proof, root};
use bansos_verifier::note::{NoteSignature, Policy, SignerKey};
use bansos_verifier::tlog_witness::{AddCheckpoint, cosigned_note, parse_size_body};
use bansos_witness::{OpenError, Witness, cosigner_vkey};
use ed25519_dalek::SigningKey;

const ORIGIN: &str = "ledger.bansos.example/witness-test";
const NOW: u64 = 1_790_000_000;

fn validator_key(i: u8) -> SignerKey {
    SignerKey::new(&format!("v{i}"), SigningKey::from_bytes(&[i + 1; 32]))
}

fn network() -> Network {
    let members = (0..4u8)
        .map(|i| Member {
            id: MemberId(u16::from(i)),
            name: format!("v{i}"),
            display_name: format!("Validator {i}"),
            role: Role::Ministry,
            public_key: validator_key(i)
                .signing_key()
                .verifying_key()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 9000 + u16::from(i)),
            voting_power: 1,
        })
        .collect();
    let g = Genesis {
        format: 1,
        network_name: "witness-test".into(),
        origin: ORIGIN.into(),
        members,
        programs: vec![],
        witnesses: Vec::new(),
        witness_quorum: 0,
        consensus: ConsensusTimeouts {
            propose_ms: 1000,
            prevote_ms: 1000,
            precommit_ms: 1000,
            block_time_drift_ms: 1000,
        },
    };
    Network::from_bytes(&Network::to_file_bytes(&g)).unwrap()
}

fn witness_key() -> SignerKey {
    SignerKey::new("witness.test", SigningKey::from_bytes(&[42; 32]))
}

/// A log's leaves; `fork` makes another log with the same sizes.
fn leaves(n: u64, fork: u8) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[&i.to_be_bytes()[..], &[fork]].concat()))
        .collect()
}

/// The checkpoint of the first `size` leaves, signed by the validators `signers`.
fn signed(origin: &str, leaves: &[Hash], size: u64, signers: &[u8]) -> Vec<u8> {
    let root = root(&leaves[..size as usize], TreeSize(size)).unwrap();
    let body = Checkpoint::new(origin, TreeSize(size), root).body();
    Checkpoint::new(origin, TreeSize(size), root)
        .to_note(signers.iter().map(|&i| {
            let k = validator_key(i);
            NoteSignature::sign(k.name(), k.signing_key(), &body)
        }))
        .to_bytes()
}

fn request(old: u64, leaves: &[Hash], size: u64, signers: &[u8]) -> Vec<u8> {
    let proof = consistency_proof(leaves, TreeSize(old.min(size)), TreeSize(size))
        .unwrap()
        .unwrap_or_default();
    AddCheckpoint {
        old: TreeSize(old),
        proof,
        checkpoint: signed(ORIGIN, leaves, size, signers),
    }
    .to_bytes()
}

/// Opens the witness in `dir`, starting a new state first if `dir` holds none.
fn open(dir: &Path) -> Witness {
    if !dir.join(bansos_witness::STATE_FILE).exists() {
        Witness::init(dir).unwrap();
    }
    Witness::open(&network(), witness_key(), dir).unwrap()
}

/// Runs one request; checks the status; on 200 checks that the answer is a cosignature of the
/// checkpoint by the witness key; on 409 returns the size it carries.
fn check(w: &Witness, body: &[u8], status: u16) -> Option<u64> {
    match w.add_checkpoint(body, NOW) {
        Ok(answer) => {
            assert_eq!(status, 200, "cosigned, expected {status}");
            let req = AddCheckpoint::parse(body).unwrap();
            let cp = bansos_verifier::note::Note::parse(&req.checkpoint).unwrap();
            let note = cosigned_note(cp.text(), &answer).unwrap();
            let policy = Policy::new(vec![cosigner_vkey(&witness_key())], 1).unwrap();
            let v = policy.verify(&note).unwrap();
            assert_eq!(v.cosigned_at, [("witness.test".to_string(), NOW)]);
            None
        }
        Err(refusal) => {
            assert_eq!(refusal.status(), status, "{refusal}");
            refusal.latest_size().map(|s| s.0)
        }
    }
}

#[test]
fn every_status_of_the_spec_table() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let log = leaves(40, 0);
    let fork = leaves(40, 1);
    // A client that knows nothing learns the witness's size from a 409... which is 0 here,
    // so the first checkpoint is cosigned at once.
    check(&w, &request(0, &log, 5, &[0, 1, 2]), 200);
    assert_eq!(w.latest_size(), TreeSize(5));
    // 400: not a request, a malformed note, a malformed checkpoint body, old > size.
    check(&w, b"old 5\n", 400);
    check(&w, b"old 5\n\nnot a note", 400);
    let bad_body =
        b"old 5\n\nledger.bansos.example/witness-test\nfive\n\n\xe2\x80\x94 v0 AAAAAA==\n";
    check(&w, bad_body, 400);
    check(&w, &request(12, &log, 10, &[0, 1, 2]), 400);
    // 404: another log.
    let other = AddCheckpoint {
        old: TreeSize(5),
        proof: consistency_proof(&log[..], TreeSize(5), TreeSize(10))
            .unwrap()
            .unwrap(),
        checkpoint: signed("ledger.bansos.example/other", &log, 10, &[0, 1, 2]),
    };
    check(&w, &other.to_bytes(), 404);
    // 403: below the quorum of 3, unknown signers only, a validator's signature that fails.
    check(&w, &request(5, &log, 10, &[0, 1]), 403);
    let proof_5_10 = consistency_proof(&log[..], TreeSize(5), TreeSize(10))
        .unwrap()
        .unwrap();
    let with_note = |note: bansos_verifier::note::Note| {
        AddCheckpoint {
            old: TreeSize(5),
            proof: proof_5_10.clone(),
            checkpoint: note.to_bytes(),
        }
        .to_bytes()
    };
    // A key named like a validator but not its key has another key ID: ignored.
    let stranger = SignerKey::new("v0", SigningKey::from_bytes(&[99; 32]));
    let mut note = bansos_verifier::note::Note::parse(&signed(ORIGIN, &log, 10, &[1, 2])).unwrap();
    let text = note.text().to_string();
    note.add_signature(NoteSignature::sign(
        stranger.name(),
        stranger.signing_key(),
        &text,
    ));
    check(&w, &with_note(note), 403);
    // Four validators sign, but v3's signature is over another text: the note is refused.
    let mut note =
        bansos_verifier::note::Note::parse(&signed(ORIGIN, &log, 10, &[0, 1, 2])).unwrap();
    let v3 = validator_key(3);
    note.add_signature(NoteSignature::sign(
        v3.name(),
        v3.signing_key(),
        "something else\n",
    ));
    check(&w, &with_note(note), 403);
    // 409: old is not the witness's size; the body carries it.
    assert_eq!(check(&w, &request(3, &log, 10, &[0, 1, 2]), 409), Some(5));
    assert_eq!(check(&w, &request(0, &log, 10, &[0, 1, 2]), 409), Some(5));
    // 409 (v1.0.0): the witness's size with another root — a fork is never cosigned.
    assert_eq!(check(&w, &request(5, &fork, 5, &[0, 1, 2]), 409), Some(5));
    // 422: a proof that does not lead from the cosigned root, or has the wrong length.
    check(&w, &request(5, &fork, 10, &[0, 1, 2]), 422);
    let mut short = AddCheckpoint::parse(&request(5, &log, 10, &[0, 1, 2])).unwrap();
    short.proof.pop();
    check(&w, &short.to_bytes(), 422);
    let mut wrong = AddCheckpoint::parse(&request(5, &log, 10, &[0, 1, 2])).unwrap();
    wrong.proof[0].0[0] ^= 1;
    check(&w, &wrong.to_bytes(), 422);
    assert_eq!(w.latest_size(), TreeSize(5), "no refusal moved the state");
    // 200: consistent; the same checkpoint again (other signers) is cosigned again.
    check(&w, &request(5, &log, 10, &[0, 1, 2]), 200);
    check(&w, &request(10, &log, 10, &[1, 2, 3]), 200);
    assert_eq!(w.latest_size(), TreeSize(10));
    // Any cosignatures already on the checkpoint (unknown keys) are ignored.
    let mut cosigned = AddCheckpoint::parse(&request(10, &log, 17, &[0, 1, 2])).unwrap();
    let mut n = bansos_verifier::note::Note::parse(&cosigned.checkpoint).unwrap();
    let other = NoteSignature::cosign(
        "other.witness",
        &SigningKey::from_bytes(&[7; 32]),
        NOW,
        n.text(),
    );
    n.add_signature(other);
    cosigned.checkpoint = n.to_bytes();
    check(&w, &cosigned.to_bytes(), 200);
    assert_eq!(w.latest_size(), TreeSize(17));
}

#[test]
fn a_fresh_witness_wants_an_empty_proof_and_the_empty_root() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let log = leaves(8, 0);
    let mut req = AddCheckpoint::parse(&request(0, &log, 8, &[0, 1, 2])).unwrap();
    req.proof = vec![log[0]];
    check(&w, &req.to_bytes(), 422);
    // A size-0 checkpoint with a root other than the empty tree's: the witness's latest size
    // (0) with another root.
    let forged = AddCheckpoint {
        old: TreeSize(0),
        proof: vec![],
        checkpoint: {
            let body = Checkpoint::new(ORIGIN, TreeSize(0), log[0]).body();
            Checkpoint::new(ORIGIN, TreeSize(0), log[0])
                .to_note((0..3).map(|i| {
                    let k = validator_key(i);
                    NoteSignature::sign(k.name(), k.signing_key(), &body)
                }))
                .to_bytes()
        },
    };
    assert_eq!(check(&w, &forged.to_bytes(), 409), Some(0));
    check(&w, &request(0, &log, 0, &[0, 1, 2]), 200);
    check(&w, &request(0, &log, 8, &[0, 1, 2]), 200);
}

#[test]
fn the_state_survives_a_restart_and_one_process_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = leaves(30, 0);
    {
        let w = open(dir.path());
        check(&w, &request(0, &log, 12, &[0, 1, 2]), 200);
        assert!(matches!(
            Witness::open(&network(), witness_key(), dir.path()),
            Err(OpenError::Locked(_))
        ));
    }
    let w = open(dir.path());
    assert_eq!(w.latest_size(), TreeSize(12));
    assert_eq!(check(&w, &request(0, &log, 20, &[0, 1, 2]), 409), Some(12));
    check(&w, &request(12, &log, 20, &[0, 1, 2]), 200);
    // The state file is the checkpoint with the validators' signatures and the cosignature.
    let stored = w.latest_note().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join(bansos_witness::STATE_FILE)).unwrap(),
        stored
    );
    let both = Policy::new(
        vec![
            validator_key(0).verifier_key(),
            cosigner_vkey(&witness_key()),
        ],
        2,
    )
    .unwrap();
    let vc = verify_checkpoint(&stored, Some(ORIGIN), &both).unwrap();
    assert_eq!(vc.checkpoint.size, TreeSize(20));
    drop(w);
    // A damaged state file stops the witness instead of resetting it.
    std::fs::write(dir.path().join(bansos_witness::STATE_FILE), b"garbage").unwrap();
    assert!(matches!(
        Witness::open(&network(), witness_key(), dir.path()),
        Err(OpenError::BadState { .. })
    ));
}

#[test]
fn a_missing_state_is_the_operators_decision_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // Never initialised: refused, nothing created.
    assert!(matches!(
        Witness::open(&network(), witness_key(), &state),
        Err(OpenError::NoState(_))
    ));
    assert!(!state.exists());
    Witness::init(&state).unwrap();
    let log = leaves(30, 0);
    {
        let w = Witness::open(&network(), witness_key(), &state).unwrap();
        assert_eq!(w.latest_size(), TreeSize(0));
        check(&w, &request(0, &log, 12, &[0, 1, 2]), 200);
    }
    assert!(matches!(Witness::init(&state), Err(OpenError::HasState(_))));
    // The state file is lost: the witness does not start again from 0.
    std::fs::remove_file(state.join(bansos_witness::STATE_FILE)).unwrap();
    let err = Witness::open(&network(), witness_key(), &state)
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::NoState(_)), "{err}");
    assert!(err.to_string().contains("restore it"), "{err}");
}

#[test]
fn concurrent_requests_cannot_roll_the_state_back() {
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(open(dir.path()));
    let log = leaves(64, 0);
    check(&w, &request(0, &log, 10, &[0, 1, 2]), 200);
    // Eight clients all start from 10 towards different sizes: exactly one wins, the others
    // learn its size.
    let results: Vec<Result<u64, u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (11..19u64)
            .map(|size| {
                let w = w.clone();
                let body = request(10, &log, size, &[0, 1, 2]);
                s.spawn(move || match w.add_checkpoint(&body, NOW) {
                    Ok(_) => Ok(size),
                    Err(r) => Err(r.latest_size().expect("a 409").0),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<u64> = results.iter().filter_map(|r| r.ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err(won[0])));
    assert_eq!(w.latest_size(), TreeSize(won[0]));
}

#[test]
fn over_http() {
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(open(dir.path()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move {
        axum::serve(listener, bansos_witness::server::router(w))
            .await
            .unwrap()
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |body: &[u8]| {
        let mut r = agent
            .post(&format!("{url}/add-checkpoint"))
            .send(body)
            .unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), ct, r.body_mut().read_to_vec().unwrap())
    };
    let log = leaves(20, 0);
    let (status, _, _) = {
        let mut r = agent.get(&format!("{url}/checkpoint")).call().unwrap();
        (r.status().as_u16(), (), r.body_mut().read_to_vec().unwrap())
    };
    assert_eq!(status, 404);
    let (status, _, answer) = post(&request(0, &log, 7, &[0, 1, 2]));
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(answer)
            .unwrap()
            .starts_with("\u{2014} witness.test ")
    );
    let (status, ct, body) = post(&request(3, &log, 9, &[0, 1, 2]));
    assert_eq!(status, 409);
    assert_eq!(ct.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(parse_size_body(&body).unwrap(), TreeSize(7));
    assert_eq!(post(&request(7, &log, 9, &[0, 1])).0, 403);
    assert_eq!(post(b"nonsense").0, 400);
    let huge = vec![b'a'; bansos_verifier::tlog_witness::ADD_CHECKPOINT_BYTES_MAX + 1];
    assert_eq!(post(&huge).0, 413);
    let mut r = agent.get(&format!("{url}/checkpoint")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let note = r.body_mut().read_to_vec().unwrap();
    let policy = Policy::new(vec![cosigner_vkey(&witness_key())], 1).unwrap();
    assert_eq!(
        verify_checkpoint(&note, Some(ORIGIN), &policy)
            .unwrap()
            .checkpoint
            .size,
        TreeSize(7)
    );
}

// ---------------------------------------------------------------------------------------------
// Governance: the validators change; the witness follows the log's key history.

use bansos_verifier::entry::{SignedTx, TxBody};
use bansos_verifier::governance::{
    Change, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRotation, Link, NewMember, Role as GovRole, Vote,
};
use bansos_witness::{KEY_HISTORY_FETCH_SECS_MIN, KEY_HISTORY_FILE, KeyHistorySource};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `v3`'s key after the rotation of epoch 2.
fn rotated_v3() -> SignerKey {
    SignerKey::new("v3", SigningKey::from_bytes(&[33; 32]))
}

/// The checkpoint of the first `size` leaves signed by `signers`.
fn signed_by(leaves: &[Hash], size: u64, signers: &[SignerKey]) -> Vec<u8> {
    let root = root(&leaves[..size as usize], TreeSize(size)).unwrap();
    let cp = Checkpoint::new(ORIGIN, TreeSize(size), root);
    let body = cp.body();
    cp.to_note(
        signers
            .iter()
            .map(|k| NoteSignature::sign(k.name(), k.signing_key(), &body)),
    )
    .to_bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A link: `change` voted in `epoch - 1` by `voters`, its first checkpoint at `start`.
fn link(
    log: &[Hash],
    epoch: u64,
    change: &Change,
    voters: &[u8],
    start: u64,
    signers: &[SignerKey],
) -> Link {
    let net = network();
    Link {
        epoch,
        change: hex(&change.to_bytes()),
        votes: voters
            .iter()
            .map(|&i| {
                let body = TxBody::Vote(Vote {
                    epoch: epoch - 1,
                    change: change.clone(),
                });
                let tx = SignedTx::sign(
                    &net.id,
                    MemberId(u16::from(i)),
                    body,
                    validator_key(i).signing_key(),
                )
                .unwrap();
                hex(&tx.encode())
            })
            .collect(),
        checkpoint: String::from_utf8(signed_by(log, start, signers)).unwrap(),
    }
}

/// Epoch 1 (from size 10) adds `v4`; epoch 2 (from size 20) rotates `v3`'s key.
fn governed(log: &[Hash]) -> Vec<Link> {
    let net = network();
    let add = Change::AddMember(NewMember {
        name: "v4".into(),
        display_name: "Validator 4".into(),
        role: GovRole::Ministry,
        public_key: validator_key(4).signing_key().verifying_key().to_bytes(),
        p2p_address: "/ip4/127.0.0.1/tcp/9004".into(),
        voting_power: 1,
    });
    let rotate = Change::RotateKey(KeyRotation::sign(
        &net.id,
        MemberId(3),
        rotated_v3().signing_key(),
        Some(validator_key(3).signing_key()),
    ));
    let k = validator_key;
    vec![
        link(log, 1, &add, &[0, 1, 2], 10, &[k(0), k(1), k(2), k(4)]),
        link(
            log,
            2,
            &rotate,
            &[0, 1, 2, 4],
            20,
            &[k(0), k(1), k(2), rotated_v3()],
        ),
    ]
}

fn history(links: Vec<Link>) -> Vec<u8> {
    serde_json::to_vec(&KeyHistoryFile {
        format: KEY_HISTORY_FORMAT.into(),
        network_id: Some(network().id),
        links,
    })
    .unwrap()
}

/// A log that serves `history` and counts the requests.
struct Log {
    history: Mutex<Option<Vec<u8>>>,
    asked: AtomicUsize,
}

/// The witness's handle on a [`Log`] the test changes.
struct Shared(Arc<Log>);

impl KeyHistorySource for Shared {
    fn fetch(&self) -> Result<Option<Vec<u8>>, String> {
        self.0.asked.fetch_add(1, Ordering::SeqCst);
        Ok(self.0.history.lock().unwrap().clone())
    }
}

fn add_at(
    w: &Witness,
    old: u64,
    log: &[Hash],
    size: u64,
    signers: &[SignerKey],
    now: u64,
) -> Result<Vec<u8>, bansos_witness::Refusal> {
    let proof = consistency_proof(log, TreeSize(old), TreeSize(size))
        .unwrap()
        .unwrap_or_default();
    let body = AddCheckpoint {
        old: TreeSize(old),
        proof,
        checkpoint: signed_by(log, size, signers),
    }
    .to_bytes();
    w.add_checkpoint(&body, now)
}

#[test]
fn the_witness_follows_the_validators_through_the_key_history() {
    let dir = tempfile::tempdir().unwrap();
    let log = leaves(40, 0);
    let k = validator_key;
    let epoch_2 = [k(1), k(2), rotated_v3(), k(4)];
    // Without a source, a checkpoint of epoch 2 has only two genesis signatures: 403.
    let w = open(dir.path());
    add_at(&w, 0, &log, 5, &[k(0), k(1), k(2)], NOW).unwrap();
    let refused = add_at(&w, 5, &log, 25, &epoch_2, NOW).unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    drop(w);

    let source = Arc::new(Log {
        history: Mutex::new(None),
        asked: AtomicUsize::new(0),
    });
    let w = Witness::open(&network(), witness_key(), dir.path())
        .unwrap()
        .with_key_history_source(Box::new(Shared(source.clone())));
    // The log serves no history yet: still 403, and it is not asked again at once.
    assert_eq!(
        add_at(&w, 5, &log, 25, &epoch_2, NOW).unwrap_err().status(),
        403
    );
    assert_eq!(
        add_at(&w, 5, &log, 25, &epoch_2, NOW + 1)
            .unwrap_err()
            .status(),
        403
    );
    assert_eq!(source.asked.load(Ordering::SeqCst), 1);
    // Once it does, the changes are followed, kept, and the checkpoint cosigned.
    *source.history.lock().unwrap() = Some(history(governed(&log)));
    let later = NOW + KEY_HISTORY_FETCH_SECS_MIN;
    add_at(&w, 5, &log, 25, &epoch_2, later).unwrap();
    assert_eq!((w.epoch(), w.latest_size()), (2, TreeSize(25)));
    assert!(dir.path().join(KEY_HISTORY_FILE).exists());
    // v3's rotated-out key no longer counts: v0, v1, v4 and old v3 are 3 of the 4 needed of 5.
    add_at(&w, 25, &log, 30, &[k(0), k(1), k(3), k(2), k(4)], later).unwrap();
    let refused = add_at(&w, 30, &log, 32, &[k(0), k(1), k(3), k(4)], later + 100).unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    drop(w);

    // After a restart, with no source at all, the kept history is trusted.
    let w = Witness::open(&network(), witness_key(), dir.path()).unwrap();
    assert_eq!((w.epoch(), w.latest_size()), (2, TreeSize(30)));
    add_at(&w, 30, &log, 35, &epoch_2, NOW).unwrap();
}

#[test]
fn the_witness_follows_only_extensions_of_its_key_history() {
    let dir = tempfile::tempdir().unwrap();
    let log = leaves(40, 0);
    let k = validator_key;
    let links = governed(&log);
    let source = Arc::new(Log {
        history: Mutex::new(Some(history(links[..1].to_vec()))),
        asked: AtomicUsize::new(0),
    });
    Witness::init(dir.path()).unwrap();
    let w = Witness::open(&network(), witness_key(), dir.path())
        .unwrap()
        .with_key_history_source(Box::new(Shared(source.clone())));
    add_at(&w, 0, &log, 12, &[k(0), k(1), k(2), k(4)], NOW).unwrap();
    assert_eq!(w.epoch(), 1);
    // Another change for epoch 1, approved by the same genesis validators: not followed.
    let other = Change::SetWitnessQuorum { quorum: 0 };
    let fork = link(&log, 1, &other, &[0, 1, 2], 10, &[k(0), k(1), k(2)]);
    *source.history.lock().unwrap() = Some(history(vec![fork, links[1].clone()]));
    let epoch_2 = [k(1), k(2), rotated_v3(), k(4)];
    let refused = add_at(&w, 12, &log, 25, &epoch_2, NOW + 60).unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    assert_eq!(w.epoch(), 1);
    // A damaged key history file stops the witness at start-up.
    drop(w);
    std::fs::write(dir.path().join(KEY_HISTORY_FILE), b"{}").unwrap();
    assert!(matches!(
        Witness::open(&network(), witness_key(), dir.path()),
        Err(OpenError::BadHistory { .. })
    ));
}

#[test]
fn the_key_history_is_fetched_from_the_first_node_that_has_one() {
    use bansos_witness::key_history::HttpKeyHistory;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let serve = |body: Option<Vec<u8>>| {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = match body {
            Some(b) => axum::Router::new()
                .route("/key-history", axum::routing::get(move || async move { b })),
            None => axum::Router::new(),
        };
        rt.spawn(async move { axum::serve(listener, router).await.unwrap() });
        url
    };
    let doc = history(governed(&leaves(40, 0)));
    let (none, some) = (serve(None), serve(Some(doc.clone())));
    assert_eq!(HttpKeyHistory::new(vec![none.clone()]).fetch(), Ok(None));
    assert_eq!(
        HttpKeyHistory::new(vec![none, format!("{some}/")]).fetch(),
        Ok(Some(doc))
    );
    // A node that cannot be reached is an error, not "no history".
    assert!(
        HttpKeyHistory::new(vec!["http://127.0.0.1:1".into()])
            .fetch()
            .is_err()
    );
}
