//! governance.json: the canonical bytes of every governance change and of vote transactions
//! (kind 6), the changes' refusals, [`Roster::apply`] accepted and refused, key histories over
//! the golden genesis policy (valid chains with checkpoints of every epoch, and one broken link
//! per refusal), and the citizen's check of a receipt made before the changes through a bundle
//! that carries the key history (docs/FORMAT.md, "Governance"; docs/VERIFY.md, "Key history").
//!
//! The logs of the chains are real: the golden log's eight entries, then each change's votes as
//! the entries of one block, so every checkpoint here is the root of that log at its size.

use bansos_verifier::citizen::{self, Evidence, Outcome, Proven};
use bansos_verifier::governance::{
    Change, ChangeError, HistoryError, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRotation, Link,
    MEMBERS_MAX, NewMember, ROTATION_DOMAIN, RULES_VERSION, Role, Roster, RosterMember,
    RosterWitness, Vote, WITNESSES_MAX, rotation_statement,
};
use bansos_verifier::policy::TrustPolicy;

use super::*;

const BNI: &str = "bni.bansos.example";
const BNI_SEED: u8 = 5;
const BSI: &str = "bsi.bansos.example";
const BSI_SEED: u8 = 6;
const BPK: &str = "bpk.bansos.example";
const BPK_SEED: u8 = 7;
/// BRI's key after its rotation (signed by the old key too).
const BRI_NEW_SEED: u8 = 13;
/// Pos's key after a rotation whose old key was lost.
const POS_NEW_SEED: u8 = 14;
const WITNESS_URL: &str = "https://witness.audit.example/";
/// The witness cosigned the main chain's checkpoints at 2026-11-20T00:00:00Z.
const GOVERNANCE_COSIGNED_AT: u64 = 1_795_132_800;
const OTHER_ORIGIN: &str = "bansos.example/ledger/another-log";

fn seed_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn role_tag(r: Role) -> u8 {
    match r {
        Role::Ministry => 1,
        Role::Bank => 2,
        Role::Auditor => 3,
    }
}

// ---------------------------------------------------------------------------------------------
// Byte layouts of changes and votes.

fn change_layout(c: &Change) -> Layout {
    let mut l = Layout::new();
    push(&mut l, "change", &[c.tag()]);
    match c {
        Change::AddMember(m) => {
            push_str(&mut l, "name", &m.name);
            push_str(&mut l, "display_name", &m.display_name);
            push(&mut l, "role", &[role_tag(m.role)]);
            push(&mut l, "public_key", &m.public_key);
            push_str(&mut l, "p2p_address", &m.p2p_address);
            push(&mut l, "voting_power", &m.voting_power.to_be_bytes());
        }
        Change::RemoveMember { member } => push(&mut l, "member", &member.0.to_be_bytes()),
        Change::SetVotingPower { member, power } => {
            push(&mut l, "member", &member.0.to_be_bytes());
            push(&mut l, "power", &power.to_be_bytes());
        }
        Change::RotateKey(r) => {
            push(&mut l, "member", &r.member.0.to_be_bytes());
            push(&mut l, "new_key", &r.new_key);
            push(&mut l, "new_key_signature", &r.new_key_signature);
            match &r.old_key_signature {
                None => push(&mut l, "old_key_signed", &[0]),
                Some(s) => {
                    push(&mut l, "old_key_signed", &[1]);
                    push(&mut l, "old_key_signature", s);
                }
            }
        }
        Change::AddWitness(wi) => {
            push_str(&mut l, "vkey", &wi.vkey);
            push_str(&mut l, "url", &wi.url);
        }
        Change::RetireWitness { name } => push_str(&mut l, "name", name),
        Change::SetWitnessQuorum { quorum } => push(&mut l, "quorum", &[*quorum]),
        Change::ScheduleUpgrade {
            height,
            rules_version,
        } => {
            push(&mut l, "height", &height.to_be_bytes());
            push(&mut l, "rules_version", &rules_version.to_be_bytes());
        }
    }
    assert_eq!(concat(&l), c.to_bytes(), "{}: layout", c.name());
    l
}

/// A vote's layout with the change's fields spelled out.
fn vote_layout(tx: &SignedTx) -> Layout {
    let TxBody::Vote(v) = &tx.body else {
        panic!("not a vote")
    };
    let mut l = Layout::new();
    push(&mut l, "version", &[FORMAT_VERSION]);
    push(&mut l, "signer", &tx.signer.0.to_be_bytes());
    push(&mut l, "kind", &[6]);
    push(&mut l, "epoch", &v.epoch.to_be_bytes());
    l.extend(change_layout(&v.change));
    push(&mut l, "signature", &tx.signature);
    assert_eq!(concat(&l), tx.encode(), "vote layout");
    l
}

// ---------------------------------------------------------------------------------------------
// The changes of the vectors.

struct Changes {
    add_bni: Change,
    add_bsi: Change,
    add_observer: Change,
    remove_kemenkeu: Change,
    power_kemensos_2: Change,
    rotate_bri: Change,
    rotate_pos_lost: Change,
    add_witness: Change,
    retire_witness: Change,
    witness_quorum_1: Change,
    upgrade_2: Change,
}

fn new_member(name: &str, display: &str, role: Role, seed: u8, power: u64) -> Change {
    Change::AddMember(NewMember {
        name: name.into(),
        display_name: display.into(),
        role,
        public_key: seed_key(seed).verifying_key().to_bytes(),
        p2p_address: format!("/dns4/{name}/tcp/8800"),
        voting_power: power,
    })
}

impl Changes {
    fn new(w: &World) -> Changes {
        Changes {
            add_bni: new_member(BNI, "Bank Negara Indonesia", Role::Bank, BNI_SEED, 1),
            add_bsi: new_member(BSI, "Bank Syariah Indonesia", Role::Bank, BSI_SEED, 1),
            add_observer: new_member(BPK, "Badan Pemeriksa Keuangan", Role::Auditor, BPK_SEED, 0),
            remove_kemenkeu: Change::RemoveMember {
                member: MemberId(1),
            },
            power_kemensos_2: Change::SetVotingPower {
                member: MemberId(0),
                power: 2,
            },
            rotate_bri: Change::RotateKey(KeyRotation::sign(
                &w.network,
                MemberId(2),
                &seed_key(BRI_NEW_SEED),
                Some(&w.members[2].key),
            )),
            rotate_pos_lost: Change::RotateKey(KeyRotation::sign(
                &w.network,
                MemberId(3),
                &seed_key(POS_NEW_SEED),
                None,
            )),
            add_witness: Change::AddWitness(RosterWitness {
                vkey: w.witness_vkey().to_string(),
                url: WITNESS_URL.into(),
            }),
            retire_witness: Change::RetireWitness {
                name: WITNESS_NAME.into(),
            },
            witness_quorum_1: Change::SetWitnessQuorum { quorum: 1 },
            upgrade_2: Change::ScheduleUpgrade {
                height: 1_000,
                rules_version: RULES_VERSION + 1,
            },
        }
    }
}

fn change_json(name: &str, about: &str, c: &Change, w: &World) -> J {
    let bytes = c.to_bytes();
    assert_eq!(Change::from_bytes(&bytes).as_ref(), Ok(c), "{name}");
    let rotation = match c {
        Change::RotateKey(r) => {
            let statement = rotation_statement(&w.network, r.member, &r.new_key);
            let mut expected = ROTATION_DOMAIN.to_vec();
            expected.extend_from_slice(&w.network.0);
            expected.extend_from_slice(&r.member.0.to_be_bytes());
            expected.extend_from_slice(&r.new_key);
            assert_eq!(statement, expected);
            obj! { "statement_hex" => hex(&statement) }
        }
        _ => J::Null,
    };
    obj! {
        "name" => name,
        "about" => about,
        "tag" => c.tag(),
        "change" => c.name(),
        "json" => view(c),
        "layout" => layout_json(&change_layout(c)),
        "hex" => hex(&bytes),
        "hash" => c.hash().to_hex(),
        "rotation" => rotation,
    }
}

// ---------------------------------------------------------------------------------------------
// Rosters and their JSON.

fn roster_json(r: &Roster) -> J {
    obj! {
        "roster" => view(r),
        "total_power" => r.total_power(),
        "quorum_power" => r.quorum_power(),
    }
}

fn change_error_json(e: &ChangeError) -> J {
    match e {
        ChangeError::UnknownMember(m) => obj! { "kind" => "unknown_member", "member" => *m },
        ChangeError::NotAValidator(m) => obj! { "kind" => "not_a_validator", "member" => *m },
        ChangeError::NameTaken(n) => obj! { "kind" => "name_taken", "name" => n },
        ChangeError::KeyTaken(m) => obj! { "kind" => "key_taken", "member" => *m },
        ChangeError::TooManyMembers => obj! { "kind" => "too_many_members" },
        ChangeError::TooFewValidators(n) => {
            obj! { "kind" => "too_few_validators", "validators" => *n }
        }
        ChangeError::BlockingShare {
            member,
            power,
            total,
        } => {
            obj! { "kind" => "blocking_share", "member" => member, "power" => *power, "total" => *total }
        }
        ChangeError::BadNewKeySignature => obj! { "kind" => "bad_new_key_signature" },
        ChangeError::BadOldKeySignature(m) => {
            obj! { "kind" => "bad_old_key_signature", "member" => *m }
        }
        ChangeError::SameKey => obj! { "kind" => "same_key" },
        ChangeError::UnknownWitness(n) => obj! { "kind" => "unknown_witness", "name" => n },
        ChangeError::TooManyWitnesses => obj! { "kind" => "too_many_witnesses" },
        ChangeError::WitnessQuorumTooHigh { quorum, witnesses } => {
            obj! { "kind" => "witness_quorum_too_high", "quorum" => *quorum, "witnesses" => *witnesses }
        }
        ChangeError::RulesVersionNotHigher(v) => {
            obj! { "kind" => "rules_version_not_higher", "current" => *v }
        }
    }
}

fn history_error_json(e: &HistoryError) -> J {
    match e {
        HistoryError::Malformed(_) => obj! { "kind" => "malformed" },
        HistoryError::OtherNetwork => obj! { "kind" => "other_network" },
        HistoryError::Conflict { epoch } => obj! { "kind" => "conflict", "epoch" => *epoch },
        HistoryError::OutOfOrder {
            index,
            got,
            expected,
        } => {
            obj! { "kind" => "out_of_order", "index" => *index, "got" => *got, "expected" => *expected }
        }
        HistoryError::Undecodable { epoch, what, .. } => {
            obj! { "kind" => "undecodable", "epoch" => *epoch, "what" => *what }
        }
        HistoryError::NotThisVote {
            epoch,
            index,
            previous,
        } => {
            obj! { "kind" => "not_this_vote", "epoch" => *epoch, "index" => *index, "previous" => *previous }
        }
        HistoryError::NotAVoter {
            epoch,
            index,
            signer,
        } => {
            obj! { "kind" => "not_a_voter", "epoch" => *epoch, "index" => *index, "signer" => *signer }
        }
        HistoryError::BadVoteSignature {
            epoch,
            index,
            signer,
        } => {
            obj! { "kind" => "bad_vote_signature", "epoch" => *epoch, "index" => *index, "signer" => *signer }
        }
        HistoryError::DuplicateVote { epoch, signer } => {
            obj! { "kind" => "duplicate_vote", "epoch" => *epoch, "signer" => *signer }
        }
        HistoryError::NotApproved {
            epoch,
            power,
            total,
        } => {
            obj! { "kind" => "not_approved", "epoch" => *epoch, "power" => *power, "total" => *total }
        }
        HistoryError::BadChange { epoch, why } => {
            obj! { "kind" => "bad_change", "epoch" => *epoch, "why" => change_error_json(why) }
        }
        HistoryError::BadCheckpoint { epoch, why } => {
            obj! { "kind" => "bad_checkpoint", "epoch" => *epoch, "why" => checkpoint_error_json(why) }
        }
        HistoryError::NotIncreasing {
            epoch,
            size,
            previous,
            previous_size,
        } => obj! {
            "kind" => "not_increasing", "epoch" => *epoch, "size" => *size,
            "previous" => *previous, "previous_size" => *previous_size,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Chains: real logs whose blocks carry the votes.

/// One approved change: the change, who votes (member, key) and who signs the new epoch's first
/// checkpoint (key name, key), and whether the witness cosigns it.
struct Step {
    change: Change,
    voters: Vec<(u16, SigningKey)>,
    signers: Vec<NamedKey>,
    cosigned: bool,
}

struct Chain {
    leaves: Vec<Vec<u8>>,
    hashes: Vec<Hash>,
    links: Vec<Link>,
    /// The block height after the last step (more entries go in later blocks).
    height: u64,
}

fn vote_hex(w: &World, epoch: u64, change: &Change, signer: u16, key: &SigningKey) -> String {
    hex(&vote_tx(w, epoch, change, signer, key).encode())
}

fn vote_tx(w: &World, epoch: u64, change: &Change, signer: u16, key: &SigningKey) -> SignedTx {
    let body = TxBody::Vote(Vote {
        epoch,
        change: change.clone(),
    });
    SignedTx::sign(&w.network, MemberId(signer), body, key).expect("a valid vote")
}

impl Chain {
    /// The golden log's entries (heights 1 to 4), then one block of votes per step.
    fn build(w: &World, steps: &[Step]) -> Chain {
        let mut chain = Chain {
            leaves: w.examples.iter().map(|e| e.leaf.encode()).collect(),
            hashes: Vec::new(),
            links: Vec::new(),
            height: 4,
        };
        for (k, step) in steps.iter().enumerate() {
            chain.height += 1;
            let epoch = k as u64;
            let votes: Vec<SignedTx> = step
                .voters
                .iter()
                .map(|(id, key)| vote_tx(w, epoch, &step.change, *id, key))
                .collect();
            for tx in &votes {
                chain.push(Leaf {
                    height: chain.height,
                    block_time: block_time(chain.height),
                    tx: tx.clone(),
                });
            }
            let size = chain.leaves.len() as u64;
            let note = chain.note(size, &step.signers, step.cosigned, ORIGIN);
            chain.links.push(Link {
                epoch: epoch + 1,
                change: hex(&step.change.to_bytes()),
                votes: votes.iter().map(|t| hex(&t.encode())).collect(),
                checkpoint: note,
            });
        }
        chain.hashes = chain.leaves.iter().map(|l| leaf_hash(l)).collect();
        chain
    }

    fn push(&mut self, leaf: Leaf) {
        self.leaves.push(leaf.encode());
        self.hashes = self.leaves.iter().map(|l| leaf_hash(l)).collect();
    }

    /// One more block with one entry (a program registered by Kemensos).
    fn append_block(&mut self, w: &World, code: &str) {
        self.height += 1;
        let body = TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new(code).expect("code"),
            name: format!("Program {code}"),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(150_000)),
        });
        let tx = SignedTx::sign(&w.network, MemberId(0), body, &w.members[0].key).expect("tx");
        self.push(Leaf {
            height: self.height,
            block_time: block_time(self.height),
            tx,
        });
    }

    fn root(&self, size: u64) -> Hash {
        let hashes: Vec<Hash> = self.leaves[..size as usize]
            .iter()
            .map(|l| leaf_hash(l))
            .collect();
        merkle::root(&hashes[..], TreeSize(size)).expect("in memory")
    }

    /// The checkpoint of `size` signed by `signers` (and cosigned by the witness), as text.
    fn note(
        &self,
        size: u64,
        signers: &[(&str, SigningKey)],
        cosigned: bool,
        origin: &str,
    ) -> String {
        let body = Checkpoint::new(origin, TreeSize(size), self.root(size)).body();
        let mut note = Note::new(&body).expect("note text");
        for (name, key) in signers {
            note.add_signature(NoteSignature::sign(name, key, &body));
        }
        if cosigned {
            note.add_signature(NoteSignature::cosign(
                WITNESS_NAME,
                &seed_key(WITNESS_SEED),
                GOVERNANCE_COSIGNED_AT,
                &body,
            ));
        }
        String::from_utf8(note.to_bytes()).expect("UTF-8")
    }

    fn file(&self, w: &World) -> KeyHistoryFile {
        history_file(w, self.links.clone())
    }

    fn proven(&self, index: u64, size: u64) -> Proven {
        let hashes = &self.hashes[..size as usize];
        Proven {
            index: LeafIndex(index),
            leaf: self.leaves[index as usize].clone(),
            proof: merkle::inclusion_proof(hashes, LeafIndex(index), TreeSize(size))
                .expect("mem")
                .expect("ok"),
        }
    }
}

fn history_file(w: &World, links: Vec<Link>) -> KeyHistoryFile {
    KeyHistoryFile {
        format: KEY_HISTORY_FORMAT.into(),
        network_id: Some(w.network),
        links,
    }
}

/// A key name and its signing key.
type NamedKey = (&'static str, SigningKey);

/// The signing keys of the golden members and of the ones governance adds.
struct Keys {
    kemensos: NamedKey,
    kemenkeu: NamedKey,
    bri: NamedKey,
    pos: NamedKey,
    bni: NamedKey,
    bsi: NamedKey,
    bri_new: NamedKey,
    pos_new: NamedKey,
}

impl Keys {
    fn new(w: &World) -> Keys {
        let m = |i: usize| (w.members[i].name, w.members[i].key.clone());
        Keys {
            kemensos: m(0),
            kemenkeu: m(1),
            bri: m(2),
            pos: m(3),
            bni: (BNI, seed_key(BNI_SEED)),
            bsi: (BSI, seed_key(BSI_SEED)),
            bri_new: (w.members[2].name, seed_key(BRI_NEW_SEED)),
            pos_new: (w.members[3].name, seed_key(POS_NEW_SEED)),
        }
    }
}

fn signers(list: &[&NamedKey]) -> Vec<NamedKey> {
    list.iter().map(|(n, k)| (*n, k.clone())).collect()
}

fn voters(list: &[(u16, &NamedKey)]) -> Vec<(u16, SigningKey)> {
    list.iter().map(|(id, (_, k))| (*id, k.clone())).collect()
}

/// Add a fifth validator, rotate BRI's key, remove Kemenkeu, add a witness, require it.
fn main_steps(c: &Changes, k: &Keys) -> Vec<Step> {
    vec![
        Step {
            change: c.add_bni.clone(),
            voters: voters(&[(0, &k.kemensos), (1, &k.kemenkeu), (2, &k.bri)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.bni]),
            cosigned: false,
        },
        Step {
            change: c.rotate_bri.clone(),
            voters: voters(&[(0, &k.kemensos), (2, &k.bri), (3, &k.pos), (4, &k.bni)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri_new, &k.pos]),
            cosigned: false,
        },
        Step {
            change: c.remove_kemenkeu.clone(),
            voters: voters(&[
                (0, &k.kemensos),
                (1, &k.kemenkeu),
                (2, &k.bri_new),
                (4, &k.bni),
            ]),
            signers: signers(&[&k.kemensos, &k.bri_new, &k.pos]),
            cosigned: false,
        },
        Step {
            change: c.add_witness.clone(),
            voters: voters(&[(0, &k.kemensos), (2, &k.bri_new), (3, &k.pos)]),
            signers: signers(&[&k.bri_new, &k.pos, &k.bni]),
            cosigned: false,
        },
        Step {
            change: c.witness_quorum_1.clone(),
            voters: voters(&[(2, &k.bri_new), (3, &k.pos), (4, &k.bni)]),
            signers: signers(&[&k.kemensos, &k.pos, &k.bni]),
            cosigned: true,
        },
    ]
}

/// Add a fifth and a sixth validator, give Kemensos a power of 2, rotate Pos's lost key.
fn powers_steps(c: &Changes, k: &Keys) -> Vec<Step> {
    vec![
        Step {
            change: c.add_bni.clone(),
            voters: voters(&[(0, &k.kemensos), (1, &k.kemenkeu), (2, &k.bri)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.bni]),
            cosigned: false,
        },
        Step {
            change: c.add_bsi.clone(),
            voters: voters(&[(0, &k.kemensos), (1, &k.kemenkeu), (3, &k.pos), (4, &k.bni)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos, &k.bsi]),
            cosigned: false,
        },
        Step {
            change: c.power_kemensos_2.clone(),
            voters: voters(&[
                (0, &k.kemensos),
                (1, &k.kemenkeu),
                (2, &k.bri),
                (3, &k.pos),
                (4, &k.bni),
            ]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
            cosigned: false,
        },
        Step {
            change: c.rotate_pos_lost.clone(),
            voters: voters(&[(0, &k.kemensos), (1, &k.kemenkeu), (2, &k.bri), (5, &k.bsi)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos_new]),
            cosigned: false,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// The file.

pub(super) fn governance(w: &World) -> J {
    let c = Changes::new(w);
    let k = Keys::new(w);
    let policy_file = golden_policy_file(w);
    let policy = TrustPolicy::new(policy_file.clone()).expect("policy");
    let genesis = policy.history().current().clone();

    J::Obj(vec![
        ("description".into(), "Governance (docs/FORMAT.md, \"Governance\"; docs/VERIFY.md, \"Key history\"): the canonical bytes of every change \
    and of vote transactions (kind 6) with their field-by-field layouts; changes refused by the decoder; Roster::apply on named rosters, \
    accepted (the roster after) or refused (the rule broken); key histories followed from the genesis trust policy `policy` (valid chains \
    with checkpoints of every epoch, and one broken link per refusal); and the citizen's check of a receipt made before the changes, \
    through receipt bundles that carry a key history. Every `reason` is the English sentence both verifiers give; where the error is \
    malformed or undecodable, its tail is the parser's own words and only the kind and fields must agree.".into()),
        ("regenerate".into(), "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors".into()),
        ("synthetic_data".into(), SYNTHETIC_NOTE.into()),
        ("network_id".into(), hex(&w.network.0).into()),
        ("origin".into(), ORIGIN.into()),
        ("rotation_domain_hex".into(), hex(ROTATION_DOMAIN).into()),
        ("key_history_format".into(), KEY_HISTORY_FORMAT.into()),
        ("policy".into(), view(&policy.file)),
        ("new_members".into(), J::Arr(
            [(BNI, BNI_SEED, "validator added in both chains"), (BSI, BSI_SEED, "validator added in the powers chain"),
             (BPK, BPK_SEED, "auditor without voting power (apply vectors)"),
             ("bri.bansos.example (rotated)", BRI_NEW_SEED, "BRI's key after its rotation"),
             ("pos.bansos.example (rotated)", POS_NEW_SEED, "Pos's key after the rotation of its lost key")]
            .iter()
            .map(|(name, seed, about)| obj! {
                "name" => *name,
                "about" => *about,
                "test_private_key_seed" => hex(&[*seed; 32]),
                "public_key" => hex(seed_key(*seed).verifying_key().as_bytes()),
            })
            .collect(),
        )),
        ("changes".into(), changes(w, &c)),
        ("votes".into(), votes(w, &c, &k)),
        ("refused_changes".into(), refused_changes(w, &c)),
        ("apply".into(), apply(w, &c, &genesis)),
        ("histories".into(), histories(w, &c, &k, &policy)),
        ("citizen".into(), citizen_with_history(w, &c, &k, &policy)),
    ])
}

fn changes(w: &World, c: &Changes) -> J {
    let list: Vec<(&str, &str, &Change)> = vec![
        (
            "add_member",
            "tag 1: BNI joins as a validator of power 1",
            &c.add_bni,
        ),
        (
            "add_member_without_power",
            "tag 1: BPK joins as an auditor that does not validate (power 0)",
            &c.add_observer,
        ),
        (
            "remove_member",
            "tag 2: Kemenkeu (member 1) leaves",
            &c.remove_kemenkeu,
        ),
        (
            "set_voting_power",
            "tag 3: Kemensos (member 0) gets a voting power of 2",
            &c.power_kemensos_2,
        ),
        (
            "rotate_key",
            "tag 4: BRI (member 2) replaces its key; the new and the old key signed the rotation statement",
            &c.rotate_bri,
        ),
        (
            "rotate_key_old_key_lost",
            "tag 4: Pos (member 3) replaces a lost key; only the new key signed",
            &c.rotate_pos_lost,
        ),
        (
            "add_witness",
            "tag 5: a witness with its cosignature key and URL",
            &c.add_witness,
        ),
        (
            "retire_witness",
            "tag 6: the witness is retired by its key name",
            &c.retire_witness,
        ),
        (
            "set_witness_quorum",
            "tag 7: one witness cosignature is required on every checkpoint",
            &c.witness_quorum_1,
        ),
        (
            "schedule_upgrade",
            "tag 8: from height 1000 the rules of version 2 apply",
            &c.upgrade_2,
        ),
    ];
    let tags: std::collections::BTreeSet<u8> = list.iter().map(|(_, _, ch)| ch.tag()).collect();
    assert_eq!(tags.len(), 8, "one vector per change kind at least");
    J::Arr(
        list.into_iter()
            .map(|(name, about, ch)| change_json(name, about, ch, w))
            .collect(),
    )
}

fn votes(w: &World, c: &Changes, k: &Keys) -> J {
    let list: Vec<(&str, u64, u16, &NamedKey, &Change)> = vec![
        ("vote_add_member", 0, 0, &k.kemensos, &c.add_bni),
        ("vote_rotate_key", 1, 4, &k.bni, &c.rotate_bri),
        ("vote_remove_member", 2, 2, &k.bri_new, &c.remove_kemenkeu),
        ("vote_set_voting_power", 2, 3, &k.pos, &c.power_kemensos_2),
        ("vote_add_witness", 3, 0, &k.kemensos, &c.add_witness),
        ("vote_set_witness_quorum", 4, 4, &k.bni, &c.witness_quorum_1),
        ("vote_schedule_upgrade", 5, 3, &k.pos, &c.upgrade_2),
    ];
    let height = 9;
    J::Arr(
        list.into_iter()
            .map(|(name, epoch, signer, (_, key), change)| {
                let tx = vote_tx(w, epoch, change, signer, key);
                let encoded = tx.encode();
                let layout = vote_layout(&tx);
                assert!(tx.verify(&w.network, &key.verifying_key()));
                assert_eq!(SignedTx::decode(&encoded).as_ref(), Ok(&tx));
                let mut message = TX_SIGNING_DOMAIN.to_vec();
                message.extend_from_slice(&w.network.0);
                message.extend_from_slice(&encoded[..encoded.len() - 64]);
                assert_eq!(tx.signing_message(&w.network), message);
                let leaf = Leaf {
                    height,
                    block_time: block_time(height),
                    tx: tx.clone(),
                };
                let leaf_bytes = leaf.encode();
                assert_eq!(Leaf::decode(&leaf_bytes).as_ref(), Ok(&leaf));
                obj! {
                    "name" => name,
                    "kind" => tx.body.kind_name(),
                    "kind_tag" => tx.body.tag(),
                    "epoch" => epoch,
                    "signer" => signer,
                    "signer_public_key" => hex(key.verifying_key().as_bytes()),
                    "json" => view(&tx),
                    "layout" => layout_json(&layout),
                    "signing_message_hex" => hex(&message),
                    "signed_tx_hex" => hex(&encoded),
                    "tx_hash" => tx.hash().to_hex(),
                    "leaf" => obj! { "height" => height, "block_time" => block_time(height) },
                    "leaf_hex" => hex(&leaf_bytes),
                    "leaf_hash" => leaf_hash(&leaf_bytes).to_hex(),
                }
            })
            .collect(),
    )
}

/// 32 bytes that are not an Ed25519 public key (no point has this y), small y so that no
/// decoder can take it for a non-canonical encoding.
fn not_a_point() -> [u8; 32] {
    (2u8..)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_err())
        .expect("some small y is not on the curve")
}

fn refused_changes(w: &World, c: &Changes) -> J {
    let add = change_layout(&c.add_bni);
    let remove = change_layout(&c.remove_kemenkeu);
    let power = change_layout(&c.power_kemensos_2);
    let rotate = change_layout(&c.rotate_bri);
    let lost = change_layout(&c.rotate_pos_lost);
    let witness = change_layout(&c.add_witness);
    let retire = change_layout(&c.retire_witness);
    let quorum = change_layout(&c.witness_quorum_1);
    let upgrade = change_layout(&c.upgrade_2);
    let ed25519_vkey = w.vkey(0).to_string();
    let bad_point = not_a_point();
    let cases: Vec<(&str, &str, Vec<u8>, Refusal)> = vec![
        ("empty", "no bytes at all", vec![], truncated("change")),
        (
            "tag_0",
            "change tag 0 is not assigned",
            vec![0],
            unknown_tag("change", 0),
        ),
        (
            "tag_9",
            "unknown change tag 9",
            concat(&set(&quorum, "change", &[9])),
            unknown_tag("change", 9),
        ),
        (
            "trailing_byte",
            "a valid removal followed by one 0x00 byte",
            [concat(&remove), vec![0]].concat(),
            trailing(1),
        ),
        (
            "remove_truncated",
            "a removal whose member number has one byte",
            vec![2, 0],
            truncated("member"),
        ),
        (
            "name_invalid",
            "a member name starting with a dot",
            concat(&set_str(&add, "name", b".bni")),
            invalid("name"),
        ),
        (
            "name_with_slash",
            "a member name with a slash (it names key files)",
            concat(&set_str(&add, "name", b"bni/../x")),
            invalid("name"),
        ),
        (
            "name_33_bytes",
            "a member name longer than 32 bytes",
            concat(&set_str(&add, "name", &[b'a'; 33])),
            oversize("name", 32),
        ),
        (
            "display_name_empty",
            "an empty display name",
            concat(&set_str(&add, "display_name", b"")),
            invalid("display_name"),
        ),
        (
            "display_name_outer_space",
            "a display name with a trailing space",
            concat(&set_str(&add, "display_name", b"Bank Negara ")),
            invalid("display_name"),
        ),
        (
            "display_name_control_char",
            "a display name with a tab",
            concat(&set_str(&add, "display_name", b"Bank\tNegara")),
            invalid("display_name"),
        ),
        (
            "display_name_201_bytes",
            "a display name longer than 200 bytes",
            concat(&set_str(&add, "display_name", &[b'B'; 201])),
            oversize("display_name", 200),
        ),
        (
            "role_0",
            "role tag 0 is not assigned",
            concat(&set(&add, "role", &[0])),
            unknown_tag("role", 0),
        ),
        (
            "role_4",
            "unknown role tag 4",
            concat(&set(&add, "role", &[4])),
            unknown_tag("role", 4),
        ),
        (
            "public_key_not_a_point",
            "a public key that is no Ed25519 point",
            concat(&set(&add, "public_key", &bad_point)),
            invalid("public_key"),
        ),
        (
            "public_key_truncated",
            "input ends inside the public key",
            before(&add, "public_key")
                .into_iter()
                .chain([7u8; 10])
                .collect(),
            truncated("public_key"),
        ),
        (
            "p2p_address_newline",
            "a peer-to-peer address with a newline",
            concat(&set_str(&add, "p2p_address", b"/dns4/bni\n/tcp/8800")),
            invalid("p2p_address"),
        ),
        (
            "voting_power_too_large",
            "a new member with a voting power of 1,000,001",
            concat(&set(&add, "voting_power", &1_000_001u64.to_be_bytes())),
            invalid("voting_power"),
        ),
        (
            "power_0",
            "a voting power set to 0 (removing is tag 2)",
            concat(&set(&power, "power", &0u64.to_be_bytes())),
            invalid("power"),
        ),
        (
            "power_too_large",
            "a voting power set to 1,000,001",
            concat(&set(&power, "power", &1_000_001u64.to_be_bytes())),
            invalid("power"),
        ),
        (
            "new_key_not_a_point",
            "a rotation to 32 bytes that are no Ed25519 point",
            concat(&set(&rotate, "new_key", &bad_point)),
            invalid("new_key"),
        ),
        (
            "old_key_signed_2",
            "the old-key flag is neither 0 nor 1",
            concat(&set(&lost, "old_key_signed", &[2])),
            unknown_tag("old key signed", 2),
        ),
        (
            "old_key_signature_missing",
            "the old-key flag is 1 but the input ends",
            concat(&set(&lost, "old_key_signed", &[1])),
            truncated("old_key_signature"),
        ),
        (
            "old_key_flag_missing",
            "a rotation that ends after the new key's signature",
            before(&rotate, "old_key_signed"),
            truncated("old key signed"),
        ),
        (
            "witness_vkey_ed25519",
            "a witness key of type 0x01 (a witness cosigns: type 0x04)",
            concat(&set_str(&witness, "vkey", ed25519_vkey.as_bytes())),
            invalid("vkey"),
        ),
        (
            "witness_vkey_garbage",
            "a witness key that is not a verifier key",
            concat(&set_str(&witness, "vkey", b"witness.audit.example")),
            invalid("vkey"),
        ),
        (
            "witness_url_outer_space",
            "a witness URL with a leading space",
            concat(&set_str(
                &witness,
                "url",
                b" https://witness.audit.example/",
            )),
            invalid("url"),
        ),
        (
            "retire_name_empty",
            "retiring a witness by an empty name",
            concat(&set_str(&retire, "name", b"")),
            invalid("name"),
        ),
        (
            "retire_name_space",
            "retiring a witness by a name with a space",
            concat(&set_str(&retire, "name", b"witness audit")),
            invalid("name"),
        ),
        (
            "quorum_missing",
            "a witness quorum change without its byte",
            vec![7],
            truncated("quorum"),
        ),
        (
            "rules_version_truncated",
            "an upgrade whose rules version has one byte",
            before(&upgrade, "rules_version")
                .into_iter()
                .chain([0u8])
                .collect(),
            truncated("rules_version"),
        ),
    ];
    let vote = vote_layout(&vote_tx(w, 0, &c.add_bni, 0, &w.members[0].key));
    let vote_cases: Vec<(&str, &str, Vec<u8>, Refusal)> = vec![
        (
            "vote_epoch_truncated",
            "a vote that ends inside its epoch",
            before(&vote, "epoch").into_iter().chain([0u8; 3]).collect(),
            truncated("epoch"),
        ),
        (
            "vote_change_tag_9",
            "a vote for an unknown change tag 9",
            concat(&set(&vote, "change", &[9])),
            unknown_tag("change", 9),
        ),
        (
            "vote_role_0",
            "a vote whose new member has role 0",
            concat(&set(&vote, "role", &[0])),
            unknown_tag("role", 0),
        ),
    ];
    let mut out = Vec::new();
    for (name, reason, bytes, want) in cases {
        let got = refusal_of(&Change::from_bytes(&bytes).expect_err(name));
        assert_eq!(got, want, "{name}");
        out.push(obj! { "name" => name, "input" => "change", "reason" => reason, "hex" => hex(&bytes), "error" => refusal_json(&want) });
    }
    for (name, reason, bytes, want) in vote_cases {
        let got = refusal_of(&SignedTx::decode(&bytes).expect_err(name));
        assert_eq!(got, want, "{name}");
        out.push(obj! { "name" => name, "input" => "signed_tx", "reason" => reason, "hex" => hex(&bytes), "error" => refusal_json(&want) });
    }
    J::Arr(out)
}

fn refusal_json(r: &Refusal) -> J {
    obj! { "kind" => r.kind, "field" => r.field, "value" => r.value }
}

fn apply(w: &World, c: &Changes, genesis: &Roster) -> J {
    let net = &w.network;
    let five = genesis.apply(net, &c.add_bni).expect("five");
    let six = five.apply(net, &c.add_bsi).expect("six");
    let four_after_removal = five.apply(net, &c.remove_kemenkeu).expect("four");
    let with_observer = genesis.apply(net, &c.add_observer).expect("observer");
    let with_witness = genesis.apply(net, &c.add_witness).expect("witness");
    let witnessed = with_witness
        .apply(net, &c.witness_quorum_1)
        .expect("quorum");
    let upgraded = genesis.apply(net, &c.upgrade_2).expect("upgrade");
    // The most members a network may have: the genesis four and 60 that never validated.
    let mut full_members = genesis.clone();
    while full_members.members.len() < MEMBERS_MAX {
        let id = full_members.members.len() as u16;
        full_members.members.push(RosterMember {
            id: MemberId(id),
            name: format!("observer-{id}.bansos.example"),
            display_name: format!("Observer {id}"),
            role: Role::Auditor,
            key: None,
            p2p_address: String::new(),
            power: 0,
            active: true,
        });
    }
    let mut full_witnesses = genesis.clone();
    for i in 0..WITNESSES_MAX {
        let name = format!("w{i}.audit.example");
        full_witnesses.witnesses.push(RosterWitness {
            vkey: VerifierKey::new(
                &name,
                KeyKind::Cosignature,
                seed_key(30 + i as u8).verifying_key(),
            )
            .to_string(),
            url: String::new(),
        });
    }
    let rosters: Vec<(&str, &str, &Roster)> = vec![
        (
            "genesis",
            "epoch 0 of the golden policy: four validators of power 1, the policy's quorum 3",
            genesis,
        ),
        ("five", "after BNI joined: five validators", &five),
        ("six", "after BNI and BSI joined: six validators", &six),
        (
            "four_after_removal",
            "five, after Kemenkeu left",
            &four_after_removal,
        ),
        (
            "with_observer",
            "genesis, after BPK joined without voting power",
            &with_observer,
        ),
        (
            "with_witness",
            "genesis, after the witness was added (no quorum yet)",
            &with_witness,
        ),
        (
            "witnessed",
            "with_witness, after a witness quorum of 1",
            &witnessed,
        ),
        (
            "upgraded",
            "genesis, after an upgrade to rules version 2 was scheduled",
            &upgraded,
        ),
        (
            "full_members",
            "64 members: the genesis four and 60 that never validated (keys unknown)",
            &full_members,
        ),
        (
            "full_witnesses",
            "genesis with 16 witnesses",
            &full_witnesses,
        ),
    ];
    let find = |name: &str| {
        rosters
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, r)| *r)
            .expect("named roster")
    };
    let observer_named = |name: &str| match &c.add_observer {
        Change::AddMember(m) => Change::AddMember(NewMember {
            name: name.into(),
            public_key: seed_key(40).verifying_key().to_bytes(),
            ..m.clone()
        }),
        _ => unreachable!(),
    };
    let with_key = |seed: &SigningKey| match &c.add_bni {
        Change::AddMember(m) => Change::AddMember(NewMember {
            public_key: seed.verifying_key().to_bytes(),
            ..m.clone()
        }),
        _ => unreachable!(),
    };
    let rotate = |member: u16, new: &SigningKey, old: Option<&SigningKey>| {
        Change::RotateKey(KeyRotation::sign(net, MemberId(member), new, old))
    };
    let mut stolen = KeyRotation::sign(
        net,
        MemberId(2),
        &seed_key(BRI_NEW_SEED),
        Some(&w.members[2].key),
    );
    stolen.new_key = seed_key(STRANGER_SEED).verifying_key().to_bytes();
    let other_network = KeyRotation::sign(
        &NetworkId([0x42; 32]),
        MemberId(2),
        &seed_key(BRI_NEW_SEED),
        None,
    );
    let power = |member: u16, p: u64| Change::SetVotingPower {
        member: MemberId(member),
        power: p,
    };
    let remove = |member: u16| Change::RemoveMember {
        member: MemberId(member),
    };
    type Case = (&'static str, &'static str, &'static str, Change, bool);
    let cases: Vec<Case> = vec![
        (
            "add_validator",
            "genesis",
            "BNI joins: five validators, quorum 4 of 5",
            c.add_bni.clone(),
            true,
        ),
        (
            "add_member_without_power",
            "genesis",
            "BPK joins without voting power: still four validators",
            c.add_observer.clone(),
            true,
        ),
        (
            "remove_member",
            "five",
            "Kemenkeu leaves five: four validators remain",
            c.remove_kemenkeu.clone(),
            true,
        ),
        (
            "set_voting_power",
            "six",
            "Kemensos gets 2 of 7: less than a third",
            c.power_kemensos_2.clone(),
            true,
        ),
        (
            "rotate_key",
            "genesis",
            "BRI's key rotated, signed by the new and the old key",
            c.rotate_bri.clone(),
            true,
        ),
        (
            "rotate_key_old_key_lost",
            "genesis",
            "Pos's lost key rotated, signed by the new key only",
            c.rotate_pos_lost.clone(),
            true,
        ),
        (
            "add_witness",
            "genesis",
            "a witness added; no cosignature required yet",
            c.add_witness.clone(),
            true,
        ),
        (
            "set_witness_quorum",
            "with_witness",
            "one witness cosignature required",
            c.witness_quorum_1.clone(),
            true,
        ),
        (
            "retire_witness",
            "with_witness",
            "the witness retired (no quorum depended on it)",
            c.retire_witness.clone(),
            true,
        ),
        (
            "schedule_upgrade",
            "genesis",
            "rules version 2 from height 1000",
            c.upgrade_2.clone(),
            true,
        ),
        (
            "schedule_a_later_upgrade",
            "upgraded",
            "rules version 3 after version 2 was scheduled",
            Change::ScheduleUpgrade {
                height: 2_000,
                rules_version: 3,
            },
            true,
        ),
        (
            "remove_unknown_member",
            "genesis",
            "there is no member 9",
            remove(9),
            false,
        ),
        (
            "remove_removed_member",
            "four_after_removal",
            "Kemenkeu already left",
            remove(1),
            false,
        ),
        (
            "power_of_a_non_validator",
            "with_observer",
            "BPK (member 4) does not validate: its power cannot be set",
            power(4, 1),
            false,
        ),
        (
            "power_of_unknown_member",
            "genesis",
            "there is no member 9",
            power(9, 1),
            false,
        ),
        (
            "name_of_a_member",
            "genesis",
            "a new member named like BRI",
            observer_named("bri.bansos.example"),
            false,
        ),
        (
            "name_of_a_witness",
            "with_witness",
            "a new member named like the witness",
            observer_named(WITNESS_NAME),
            false,
        ),
        (
            "key_of_a_member",
            "genesis",
            "a new member with Kemensos's key",
            with_key(&w.members[0].key),
            false,
        ),
        (
            "rotate_to_a_members_key",
            "genesis",
            "BRI rotates to Pos's key",
            rotate(2, &w.members[3].key, None),
            false,
        ),
        (
            "too_many_members",
            "full_members",
            "a 65th member",
            c.add_bni.clone(),
            false,
        ),
        (
            "too_few_validators",
            "genesis",
            "Kemenkeu leaves four: three would remain",
            c.remove_kemenkeu.clone(),
            false,
        ),
        (
            "blocking_share_of_five",
            "genesis",
            "Kemensos with 2 of 5",
            c.power_kemensos_2.clone(),
            false,
        ),
        (
            "blocking_share_of_six",
            "five",
            "Kemensos with 2 of 6: exactly a third still blocks",
            c.power_kemensos_2.clone(),
            false,
        ),
        (
            "new_key_did_not_sign",
            "genesis",
            "the rotation names another new key than the one that signed",
            Change::RotateKey(stolen),
            false,
        ),
        (
            "rotation_of_another_network",
            "genesis",
            "the new key signed the statement of another network",
            Change::RotateKey(other_network),
            false,
        ),
        (
            "old_key_signature_by_another_key",
            "genesis",
            "the old-key signature is Kemensos's, not BRI's",
            rotate(2, &seed_key(BRI_NEW_SEED), Some(&w.members[0].key)),
            false,
        ),
        (
            "rotate_to_the_same_key",
            "genesis",
            "BRI rotates to its own key",
            rotate(2, &w.members[2].key, Some(&w.members[2].key)),
            false,
        ),
        (
            "rotate_unknown_member",
            "genesis",
            "there is no member 9",
            rotate(9, &seed_key(BRI_NEW_SEED), None),
            false,
        ),
        (
            "retire_unknown_witness",
            "genesis",
            "there is no witness to retire",
            c.retire_witness.clone(),
            false,
        ),
        (
            "retire_a_required_witness",
            "witnessed",
            "the only witness while one cosignature is required",
            c.retire_witness.clone(),
            false,
        ),
        (
            "too_many_witnesses",
            "full_witnesses",
            "a 17th witness",
            c.add_witness.clone(),
            false,
        ),
        (
            "witness_quorum_without_witnesses",
            "genesis",
            "a quorum of 1 with no witness",
            c.witness_quorum_1.clone(),
            false,
        ),
        (
            "upgrade_to_the_current_version",
            "genesis",
            "rules version 1 is the current one",
            Change::ScheduleUpgrade {
                height: 1_000,
                rules_version: RULES_VERSION,
            },
            false,
        ),
        (
            "upgrade_not_higher",
            "upgraded",
            "version 2 is already scheduled",
            c.upgrade_2.clone(),
            false,
        ),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    let out: Vec<J> = cases
        .into_iter()
        .map(|(name, base, about, change, accepted)| {
            let result = find(base).apply(net, &change);
            assert_eq!(result.is_ok(), accepted, "{name}: {result:?}");
            let expect = match &result {
                Ok(r) => obj! { "ok" => true, "roster" => roster_json(r) },
                Err(e) => {
                    let j = change_error_json(e);
                    if let J::Obj(f) = &j
                        && let J::Str(k) = &f[0].1
                    {
                        kinds.insert(k.clone());
                    }
                    obj! { "ok" => false, "error" => j, "reason" => e.to_string() }
                }
            };
            obj! {
                "name" => name,
                "about" => about,
                "roster" => base,
                "change_hex" => hex(&change.to_bytes()),
                "expect" => expect,
            }
        })
        .collect();
    assert_eq!(kinds.len(), 14, "every ChangeError kind: {kinds:?}");
    obj! {
        "rosters" => J::Obj(rosters.iter().map(|(n, about, r)| (n.to_string(), obj! { "about" => *about, "roster" => view(*r) })).collect()),
        "cases" => out,
    }
}

/// How a checkpoint fares against a followed policy: its epoch, and ok or the error.
fn checkpoint_verdict(policy: &TrustPolicy, note: &str) -> J {
    let size = Checkpoint::parse_body(Note::parse(note.as_bytes()).expect("note").text())
        .expect("body")
        .size
        .0;
    let epoch = policy.history().roster_for(size).epoch;
    match policy.verify_checkpoint(note.as_bytes()) {
        Ok(v) => obj! {
            "epoch" => epoch,
            "ok" => true,
            "signers" => v.verified.signers.clone(),
            "cosigned_at" => J::Arr(v.verified.cosigned_at.iter().map(|(n, t)| obj! { "name" => n, "time" => *t }).collect()),
        },
        Err(e) => obj! { "epoch" => epoch, "ok" => false, "error" => checkpoint_error_json(&e) },
    }
}

/// The outcome of following `doc` from the genesis policy.
fn follow_json(policy: &TrustPolicy, doc: &J) -> (J, Option<TrustPolicy>) {
    let mut p = policy.clone();
    let bytes = serde_json::to_vec(doc).expect("JSON");
    match p.follow(&bytes) {
        Ok(()) => {
            let rosters: Vec<J> = p.history().rosters().iter().map(roster_json).collect();
            let j =
                obj! { "ok" => true, "epoch" => p.history().current().epoch, "rosters" => rosters };
            (j, Some(p))
        }
        Err(e) => {
            assert_eq!(
                p.history().current().epoch,
                0,
                "a refused history changes nothing"
            );
            let j = obj! { "ok" => false, "error" => history_error_json(&e), "reason" => e.to_string(), "epoch" => 0u64 };
            (j, None)
        }
    }
}

fn doc_of(file: &KeyHistoryFile) -> J {
    view(file)
}

fn histories(w: &World, c: &Changes, k: &Keys, policy: &TrustPolicy) -> J {
    let mut main = Chain::build(w, &main_steps(c, k));
    main.append_block(w, "BPNT");
    let powers = Chain::build(w, &powers_steps(c, k));
    let sizes = |ch: &Chain| {
        ch.links
            .iter()
            .map(|l| {
                Checkpoint::parse_body(Note::parse(l.checkpoint.as_bytes()).expect("note").text())
                    .expect("body")
                    .size
                    .0
            })
            .collect::<Vec<u64>>()
    };
    assert_eq!(sizes(&main), [11, 15, 19, 22, 25]);
    assert_eq!(sizes(&powers), [11, 15, 20, 24]);
    assert_eq!(main.leaves.len(), 26);

    // Valid chains, each with checkpoints of every epoch.
    type Cp = (&'static str, u64, Vec<NamedKey>, bool, &'static str);
    let main_cps: Vec<Cp> = vec![
        (
            "golden_log",
            8,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri]),
            false,
            "the golden log, before any change: the genesis keys",
        ),
        (
            "before_the_first_change",
            10,
            signers(&[&k.kemensos, &k.kemenkeu, &k.pos]),
            false,
            "size 10 is still epoch 0",
        ),
        (
            "new_key_before_its_epoch",
            10,
            signers(&[&k.kemensos, &k.bri, &k.bni]),
            false,
            "BNI's signature counts for nothing before epoch 1",
        ),
        (
            "old_quorum_in_epoch_1",
            11,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri]),
            false,
            "epoch 1 has five validators: 3 signatures are not more than two thirds",
        ),
        (
            "epoch_1",
            11,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.bni]),
            false,
            "the first checkpoint of epoch 1",
        ),
        (
            "old_bri_key_in_epoch_1",
            14,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
            false,
            "BRI's old key still signs in epoch 1",
        ),
        (
            "old_bri_key_in_epoch_2",
            15,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
            false,
            "from epoch 2 BRI's old key counts for nothing",
        ),
        (
            "epoch_2",
            15,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri_new, &k.bni]),
            false,
            "BRI's new key",
        ),
        (
            "removed_member_in_epoch_3",
            19,
            signers(&[&k.kemensos, &k.kemenkeu, &k.pos]),
            false,
            "Kemenkeu's signature counts for nothing once it left",
        ),
        (
            "epoch_3",
            21,
            signers(&[&k.kemensos, &k.bri_new, &k.pos]),
            false,
            "3 of the 4 validators left",
        ),
        (
            "epoch_4_no_witness_needed",
            24,
            signers(&[&k.kemensos, &k.bri_new, &k.pos]),
            false,
            "the witness is known but not yet required",
        ),
        (
            "epoch_5_without_witness",
            25,
            signers(&[&k.kemensos, &k.bri_new, &k.pos, &k.bni]),
            false,
            "from epoch 5 a witness cosignature is required",
        ),
        (
            "epoch_5_cosigned",
            26,
            signers(&[&k.bri_new, &k.pos, &k.bni]),
            true,
            "3 validators and the witness",
        ),
        (
            "epoch_5_other_origin",
            26,
            signers(&[&k.bri_new, &k.pos, &k.bni]),
            true,
            "another log's checkpoint",
        ),
        (
            "epoch_5_bad_signature",
            26,
            signers(&[&k.bri_new, &k.pos, &k.bni]),
            true,
            "BNI's signature damaged",
        ),
    ];
    let powers_cps: Vec<Cp> = vec![
        (
            "epoch_0",
            10,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri]),
            false,
            "the genesis keys",
        ),
        (
            "epoch_2",
            19,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos, &k.bsi]),
            false,
            "five of six validators",
        ),
        (
            "four_signatures_too_little_power",
            20,
            signers(&[&k.kemenkeu, &k.bri, &k.pos, &k.bni]),
            false,
            "4 signatures hold 4 of 7: the quorum is 5",
        ),
        (
            "kemensos_counts_twice",
            20,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
            false,
            "Kemensos's 2 and three others' 1: 5 of 7",
        ),
        (
            "lost_pos_key_in_epoch_4",
            24,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
            false,
            "Pos's lost key counts for nothing from epoch 4",
        ),
        (
            "epoch_4",
            24,
            signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos_new]),
            false,
            "Pos's new key",
        ),
    ];
    let chain_json = |name: &str, about: &str, chain: &Chain, cps: &[Cp]| -> J {
        let doc = doc_of(&chain.file(w));
        let (result, followed) = follow_json(policy, &doc);
        let followed = followed.unwrap_or_else(|| panic!("{name} must follow"));
        let checkpoints: Vec<J> = cps
            .iter()
            .map(|(cname, size, sig, cosigned, about)| {
                let origin = if cname.ends_with("other_origin") {
                    OTHER_ORIGIN
                } else {
                    ORIGIN
                };
                let mut note = chain.note(*size, sig, *cosigned, origin);
                if cname.ends_with("bad_signature") {
                    let mut n = Note::parse(note.as_bytes()).expect("note");
                    let mut sigs = n.signatures().to_vec();
                    sigs[2].signature[0] ^= 1;
                    n = Note::new(n.text()).expect("text");
                    for s in sigs {
                        n.add_signature(s);
                    }
                    note = String::from_utf8(n.to_bytes()).expect("UTF-8");
                }
                obj! {
                    "name" => *cname,
                    "about" => *about,
                    "size" => *size,
                    "note" => note.clone(),
                    "expect" => checkpoint_verdict(&followed, &note),
                }
            })
            .collect();
        obj! {
            "name" => name,
            "about" => about,
            "document" => doc,
            "expect" => result,
            "checkpoints" => checkpoints,
        }
    };
    let valid = vec![
        chain_json(
            "main",
            "add BNI, rotate BRI's key, remove Kemenkeu, add a witness, require its cosignature",
            &main,
            &main_cps,
        ),
        chain_json(
            "powers",
            "add BNI and BSI, give Kemensos a voting power of 2, rotate Pos's lost key",
            &powers,
            &powers_cps,
        ),
        {
            let doc = doc_of(&history_file(w, main.links[..2].to_vec()));
            let (result, _) = follow_json(policy, &doc);
            obj! { "name" => "main_first_two", "about" => "the first two links of main: a history served before the later changes", "document" => doc, "expect" => result, "checkpoints" => J::Arr(vec![]) }
        },
        {
            let doc = doc_of(&history_file(w, Vec::new()));
            let (result, _) = follow_json(policy, &doc);
            obj! { "name" => "no_change", "about" => "a network still on its genesis keys", "document" => doc, "expect" => result, "checkpoints" => J::Arr(vec![]) }
        },
    ];

    // Broken links: one per refusal.
    let good1 = main.links[0].clone();
    let link1 = |vote_list: Vec<String>, checkpoint: String| Link {
        epoch: 1,
        change: good1.change.clone(),
        votes: vote_list,
        checkpoint,
    };
    let v = |epoch: u64, change: &Change, id: u16, key: &NamedKey| {
        vote_hex(w, epoch, change, id, &key.1)
    };
    let add = &c.add_bni;
    let votes012 = || {
        vec![
            v(0, add, 0, &k.kemensos),
            v(0, add, 1, &k.kemenkeu),
            v(0, add, 2, &k.bri),
        ]
    };
    let cp1 = good1.checkpoint.clone();
    let with_vote2 = |vote: String| {
        let mut vs = votes012();
        vs[2] = vote;
        link1(vs, cp1.clone())
    };
    let claim_tx = hex(&w.example("claim").tx.encode());
    let removal_of_four = {
        let vs: Vec<String> = [
            (0u16, &k.kemensos),
            (1, &k.kemenkeu),
            (2, &k.bri),
            (3, &k.pos),
        ]
        .iter()
        .map(|(id, key)| v(0, &c.remove_kemenkeu, *id, key))
        .collect();
        Link {
            epoch: 1,
            change: hex(&c.remove_kemenkeu.to_bytes()),
            votes: vs,
            checkpoint: main.note(12, &signers(&[&k.kemensos, &k.bri, &k.pos]), false, ORIGIN),
        }
    };
    let old_keys_checkpoint = main.note(
        11,
        &signers(&[&k.kemensos, &k.kemenkeu, &k.bri]),
        false,
        ORIGIN,
    );
    let mut rotated_out_signs = main.links[1].clone();
    rotated_out_signs.checkpoint = main.note(
        15,
        &signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.pos]),
        false,
        ORIGIN,
    );
    let mut not_increasing = main.links[1].clone();
    not_increasing.checkpoint = main.note(
        11,
        &signers(&[&k.kemensos, &k.kemenkeu, &k.bri_new, &k.pos]),
        false,
        ORIGIN,
    );
    let mut old_key_votes = main.links[2].clone();
    old_key_votes.votes[2] = v(2, &c.remove_kemenkeu, 2, &k.bri);
    let removed_votes = Link {
        epoch: 4,
        change: main.links[3].change.clone(),
        votes: vec![
            v(3, &c.add_witness, 0, &k.kemensos),
            v(3, &c.add_witness, 1, &k.kemenkeu),
            v(3, &c.add_witness, 2, &k.bri_new),
        ],
        checkpoint: main.links[3].checkpoint.clone(),
    };
    let mut other_origin = good1.clone();
    other_origin.checkpoint = main.note(
        11,
        &signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.bni]),
        false,
        OTHER_ORIGIN,
    );
    let mut out_of_order = good1.clone();
    out_of_order.epoch = 2;
    let mut change_undecodable = good1.clone();
    change_undecodable.change = "ff".into();
    let mut vote_undecodable = good1.clone();
    vote_undecodable.votes[1] = hex(&[1, 0, 1]);
    let mut change_not_hex = good1.clone();
    change_not_hex.change = "zz".into();

    let docs: Vec<(&str, &str, J)> = vec![
        (
            "not_approved",
            "two of the four genesis validators voted for BNI",
            doc_of(&history_file(
                w,
                vec![link1(votes012()[..2].to_vec(), cp1.clone())],
            )),
        ),
        (
            "duplicate_vote",
            "Kemenkeu's vote counted twice",
            doc_of(&history_file(w, vec![with_vote2(votes012()[1].clone())])),
        ),
        (
            "vote_by_a_non_validator",
            "BNI votes for its own admission: it is no validator of epoch 0",
            doc_of(&history_file(w, vec![with_vote2(v(0, add, 4, &k.bni))])),
        ),
        (
            "vote_by_an_unknown_member",
            "member 7 does not exist",
            doc_of(&history_file(
                w,
                vec![with_vote2(vote_hex(w, 0, add, 7, &seed_key(STRANGER_SEED)))],
            )),
        ),
        (
            "forged_vote_signature",
            "a vote in BRI's name signed with Pos's key",
            doc_of(&history_file(w, vec![with_vote2(v(0, add, 2, &k.pos))])),
        ),
        (
            "vote_for_another_change",
            "BRI's vote is for BSI, not BNI",
            doc_of(&history_file(
                w,
                vec![with_vote2(v(0, &c.add_bsi, 2, &k.bri))],
            )),
        ),
        (
            "vote_for_another_epoch",
            "BRI's vote names epoch 1, the change applies to epoch 0",
            doc_of(&history_file(w, vec![with_vote2(v(1, add, 2, &k.bri))])),
        ),
        (
            "vote_that_is_a_claim",
            "a claim transaction where a vote should be",
            doc_of(&history_file(w, vec![with_vote2(claim_tx)])),
        ),
        (
            "change_breaks_the_rules",
            "all four vote to remove Kemenkeu: three validators would remain",
            doc_of(&history_file(w, vec![removal_of_four])),
        ),
        (
            "checkpoint_not_signed_by_the_new_roster",
            "the first checkpoint of epoch 1 has the old quorum's 3 signatures, epoch 1 needs 4",
            doc_of(&history_file(
                w,
                vec![link1(votes012(), old_keys_checkpoint)],
            )),
        ),
        (
            "checkpoint_signed_by_a_rotated_out_key",
            "epoch 2's first checkpoint signed with BRI's old key",
            doc_of(&history_file(w, vec![good1.clone(), rotated_out_signs])),
        ),
        (
            "checkpoint_of_another_log",
            "epoch 1's first checkpoint is of another origin",
            doc_of(&history_file(w, vec![other_origin])),
        ),
        (
            "out_of_order",
            "the first link starts epoch 2",
            doc_of(&history_file(w, vec![out_of_order])),
        ),
        (
            "skipped_link",
            "main's links 1 and 3: epoch 2 is missing",
            doc_of(&history_file(w, vec![good1.clone(), main.links[2].clone()])),
        ),
        (
            "not_increasing",
            "epoch 2 would start at size 11, where epoch 1 started",
            doc_of(&history_file(w, vec![good1.clone(), not_increasing])),
        ),
        (
            "vote_with_a_rotated_out_key",
            "in epoch 3's link BRI votes with its old key",
            doc_of(&history_file(
                w,
                vec![good1.clone(), main.links[1].clone(), old_key_votes],
            )),
        ),
        (
            "vote_by_a_removed_member",
            "Kemenkeu, removed in epoch 3, votes for epoch 4's change",
            doc_of(&history_file(
                w,
                vec![
                    good1.clone(),
                    main.links[1].clone(),
                    main.links[2].clone(),
                    removed_votes,
                ],
            )),
        ),
        ("other_network", "main's links under another network id", {
            let mut f = main.file(w);
            f.network_id = Some(NetworkId([0x42; 32]));
            doc_of(&f)
        }),
        ("other_format", "format bansos-ledger/key-history@v2", {
            let mut f = main.file(w);
            f.format = "bansos-ledger/key-history@v2".into();
            doc_of(&f)
        }),
        (
            "unknown_field",
            "a link with a field the format does not have",
            {
                let mut doc =
                    serde_json::to_value(history_file(w, vec![good1.clone()])).expect("JSON");
                doc["links"][0]["note"] = "extra".into();
                view(&doc)
            },
        ),
        (
            "change_undecodable",
            "the change is the byte 0xff",
            doc_of(&history_file(w, vec![change_undecodable])),
        ),
        (
            "vote_undecodable",
            "a vote of three bytes",
            doc_of(&history_file(w, vec![vote_undecodable])),
        ),
        (
            "change_not_hex",
            "the change is not hex",
            doc_of(&history_file(w, vec![change_not_hex])),
        ),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    let invalid: Vec<J> = docs
        .into_iter()
        .map(|(name, about, doc)| {
            let (result, followed) = follow_json(policy, &doc);
            assert!(followed.is_none(), "{name} must be refused");
            if let J::Obj(f) = &result
                && let J::Obj(e) = &f[1].1
                && let J::Str(kind) = &e[0].1
            {
                kinds.insert(kind.clone());
            }
            obj! { "name" => name, "about" => about, "document" => doc, "expect" => result }
        })
        .collect();
    assert_eq!(kinds.len(), 12, "every HistoryError kind: {kinds:?}");
    // Documents followed one after the other by one verifier that remembers what it followed.
    let alt = Chain::build(
        w,
        &[Step {
            change: c.add_bsi.clone(),
            voters: voters(&[(0, &k.kemensos), (1, &k.kemenkeu), (2, &k.bri)]),
            signers: signers(&[&k.kemensos, &k.kemenkeu, &k.bri, &k.bsi]),
            cosigned: false,
        }],
    );
    let first_two = || doc_of(&history_file(w, main.links[..2].to_vec()));
    let whole = || doc_of(&main.file(w));
    let other_first = || doc_of(&alt.file(w));
    let sequences: Vec<(&str, &str, Vec<J>)> = vec![
        (
            "longer_after_shorter",
            "main's first two links, then all five: the verifier goes on from epoch 2",
            vec![first_two(), whole()],
        ),
        (
            "shorter_after_longer",
            "all five of main's links, then the first two: nothing is taken away",
            vec![whole(), first_two()],
        ),
        (
            "conflicting_history",
            "main's first two links, then a history whose epoch 1 adds BSI instead of BNI: a conflict, and the known history is kept",
            vec![first_two(), other_first()],
        ),
    ];
    let sequences: Vec<J> = sequences
        .into_iter()
        .map(|(name, about, documents)| {
            let mut p = policy.clone();
            let steps: Vec<J> = documents
                .iter()
                .map(|doc| {
                    let r = p.follow(&serde_json::to_vec(doc).expect("JSON"));
                    let epoch = p.history().current().epoch;
                    match r {
                        Ok(()) => obj! { "ok" => true, "epoch" => epoch },
                        Err(e) => obj! { "ok" => false, "error" => history_error_json(&e), "reason" => e.to_string(), "epoch" => epoch },
                    }
                })
                .collect();
            obj! { "name" => name, "about" => about, "documents" => documents, "expect" => steps }
        })
        .collect();
    obj! { "valid" => valid, "invalid" => invalid, "sequences" => sequences }
}

/// Receipt bundles of the golden receipt A (leaf 2, claimed at leaf 5) over the main chain's log.
fn citizen_with_history(w: &World, c: &Changes, k: &Keys, policy: &TrustPolicy) -> J {
    let mut main = Chain::build(w, &main_steps(c, k));
    main.append_block(w, "BPNT");
    let history = main.file(w);
    let b = &w.beneficiaries[0];
    let receipt = Receipt {
        network_tag: bansos_verifier::receipt::network_tag(&w.network),
        leaf_index: LeafIndex(2),
        allocation: AllocationId(fixed(&format!("allocation-id/{}", b.label))),
        salt: b.salt,
        claim_secret: b.claim_secret,
    };
    let evidence = |size: u64, note: String, key_history: Option<KeyHistoryFile>| Evidence {
        checkpoint: note.into_bytes(),
        allocation: Some(main.proven(2, size)),
        events: vec![main.proven(5, size)],
        key_history,
    };
    let latest = main.note(26, &signers(&[&k.bri_new, &k.pos, &k.bni]), true, ORIGIN);
    let uncosigned = main.note(
        26,
        &signers(&[&k.kemensos, &k.bri_new, &k.pos, &k.bni]),
        false,
        ORIGIN,
    );
    let old = main.note(
        10,
        &signers(&[&k.kemensos, &k.kemenkeu, &k.pos]),
        false,
        ORIGIN,
    );
    let forged = {
        let mut f = history.clone();
        let mut vote = data_encoding::HEXLOWER
            .decode(f.links[2].votes[1].as_bytes())
            .expect("hex");
        let n = vote.len();
        vote[n - 1] ^= 1;
        f.links[2].votes[1] = hex(&vote);
        f
    };
    let invented = {
        // Someone holding only new keys invents a change: BNI, not a validator of epoch 0,
        // "approves" itself with three votes in the names of genesis members.
        let mut f = history_file(w, vec![main.links[0].clone()]);
        f.links[0].votes = (0u16..3)
            .map(|id| vote_hex(w, 0, &c.add_bni, id, &k.bni.1))
            .collect();
        f
    };
    let other_network = {
        let mut f = history.clone();
        f.network_id = Some(NetworkId([0x42; 32]));
        f
    };
    let before = EXPIRES_AT - 86_400 * 30;
    let cases: Vec<(&str, &str, String, Outcome)> = vec![
        (
            "receipt_before_the_changes",
            "A's receipt (leaf 2, epoch 0) against the latest checkpoint (size 26, epoch 5: BRI's new key, Pos, BNI and the witness), with the key history",
            evidence(26, latest.clone(), Some(history.clone())).to_bundle(),
            Outcome::Claimed,
        ),
        (
            "without_the_key_history",
            "the same checkpoint without the key history: only the genesis keys count",
            evidence(26, latest.clone(), None).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "forged_key_history",
            "one vote of epoch 3's link altered",
            evidence(26, latest.clone(), Some(forged)).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "invented_key_history",
            "BNI signs the votes of epoch 1 in the genesis members' names",
            evidence(26, latest.clone(), Some(invented)).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "key_history_of_another_network",
            "the history names another network",
            evidence(26, latest.clone(), Some(other_network)).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "witness_required_after_the_changes",
            "epoch 5 requires the witness: a checkpoint without its cosignature",
            evidence(26, uncosigned, Some(history.clone())).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "old_checkpoint_with_the_key_history",
            "a checkpoint of epoch 0 (size 10, genesis keys) with the key history",
            evidence(10, old.clone(), Some(history.clone())).to_bundle(),
            Outcome::Claimed,
        ),
        (
            "empty_key_history",
            "a network on its genesis keys that serves an empty history",
            evidence(10, old, Some(history_file(w, Vec::new()))).to_bundle(),
            Outcome::Claimed,
        ),
    ];
    let nik = b.nik;
    let nik_parsed = Nik::parse(nik).expect("synthetic NIK");
    let out: Vec<J> = cases
        .into_iter()
        .map(|(name, about, bundle, want)| {
            let verdict =
                citizen::check_bundle(policy, &receipt, &nik_parsed, bundle.as_bytes(), before);
            assert_eq!(verdict.outcome, want, "case {name}: {verdict:?}");
            obj! {
                "name" => name,
                "about" => about,
                "receipt" => receipt.to_text(),
                "nik" => nik,
                "now" => before,
                "bundle" => bundle,
                "expect" => view(&verdict),
            }
        })
        .collect();
    obj! {
        "about" => "The citizen's check (citizen.json's rules) under governance.json's `policy`: each bundle's key_history is followed before its checkpoint is verified.",
        "cases" => out,
    }
}
