//! `bansos-verify proof` on tlog-proof files: a proof with the entry in `extra` or in a separate
//! file verifies; a changed entry, an untrusted key or too few signatures fail.

use std::path::{Path, PathBuf};

use bansos_verifier::tlog_proof::TlogProof;

use crate::support::builder::{Signer, TestLog, stranger, validators};
use crate::support::{Run, key_args, run};

const SIZE: u64 = 1000;
const INDEX: u64 = 777;

/// A log of [`SIZE`] entries and the proof of entry [`INDEX`] under a checkpoint signed by `signers`.
fn proof_signed_by(log: &TestLog, signers: &[&Signer]) -> TlogProof {
    log.proof(INDEX, SIZE, log.checkpoint(SIZE, signers))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Verifies `file` trusting `trusted`, with extra arguments.
fn verify(file: &Path, trusted: &[Signer], extra: &[&str]) -> Run {
    let mut args = vec!["proof".to_string(), file.to_str().unwrap().to_string()];
    args.extend(key_args(trusted));
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

#[test]
fn a_proof_with_its_entry_verifies() {
    let log = TestLog::new(SIZE);
    let v = validators();
    let dir = tempfile::tempdir().unwrap();
    let proof = proof_signed_by(&log, &v.iter().collect::<Vec<_>>());
    let ok = format!("OK index={INDEX} size={SIZE} root={}", log.root(SIZE));

    let with_extra = write(dir.path(), "with-extra.tlog-proof", &proof.to_bytes());
    verify(&with_extra, &v, &[]).assert_ok(&ok);
    verify(
        &with_extra,
        &v,
        &["--quorum", "2", "--origin", crate::support::builder::ORIGIN],
    )
    .assert_ok(&ok);

    // Keys from a file, with comments.
    let keys: String = v
        .iter()
        .map(|s| format!("# {}\n{}\n\n", s.name, s.vkey()))
        .collect();
    let keys_file = write(dir.path(), "keys.txt", keys.as_bytes());
    run(&[
        "proof",
        with_extra.to_str().unwrap(),
        "--keys-file",
        keys_file.to_str().unwrap(),
    ])
    .assert_ok(&ok);

    // Without extra, the entry comes from a file.
    let bare = write(
        dir.path(),
        "bare.tlog-proof",
        &TlogProof {
            extra: None,
            ..proof.clone()
        }
        .to_bytes(),
    );
    let entry = write(dir.path(), "entry.bin", &log.entries[INDEX as usize]);
    verify(&bare, &v, &["--entry-file", entry.to_str().unwrap()]).assert_ok(&ok);
    verify(&bare, &v, &[]).assert_fails(2, &["no entry", "--entry-file"]);

    // Every index of a small tree, including the first and the last.
    for (index, size) in [(0, 1), (0, 2), (1, 2), (255, 256), (256, 257), (999, 1000)] {
        let p = log.proof(
            index,
            size,
            log.checkpoint(size, &v.iter().collect::<Vec<_>>()),
        );
        let file = write(dir.path(), "p.tlog-proof", &p.to_bytes());
        verify(&file, &v, &[]).assert_ok(&format!(
            "OK index={index} size={size} root={}",
            log.root(size)
        ));
    }
}

#[test]
fn a_changed_entry_fails() {
    let log = TestLog::new(SIZE);
    let v = validators();
    let dir = tempfile::tempdir().unwrap();
    let proof = proof_signed_by(&log, &v.iter().collect::<Vec<_>>());

    let mut extra = proof.extra.clone().unwrap();
    extra[0] ^= 1;
    let tampered = write(
        dir.path(),
        "tampered.tlog-proof",
        &TlogProof {
            extra: Some(extra),
            ..proof.clone()
        }
        .to_bytes(),
    );
    verify(&tampered, &v, &[])
        .assert_fails(1, &["tampered.tlog-proof", "entry 777", "inclusion proof"]);

    // A correct extra does not rescue a wrong entry file: the file is what is checked.
    let good = write(dir.path(), "good.tlog-proof", &proof.to_bytes());
    let other = write(dir.path(), "other-entry.bin", &log.entries[778]);
    let out = verify(&good, &v, &["--entry-file", other.to_str().unwrap()]);
    out.assert_fails(1, &["inclusion proof"]);
    assert!(out.stderr.contains("differs"), "{}", out.stderr);

    // Another index for the same entry and proof.
    let moved = write(
        dir.path(),
        "moved.tlog-proof",
        &TlogProof {
            index: bansos_verifier::LeafIndex(776),
            ..proof
        }
        .to_bytes(),
    );
    verify(&moved, &v, &[]).assert_fails(1, &["inclusion proof"]);
}

#[test]
fn untrusted_or_too_few_signatures_fail() {
    let log = TestLog::new(SIZE);
    let v = validators();
    let dir = tempfile::tempdir().unwrap();

    // Signed by all four, but the verifier trusts only a stranger.
    let all = write(
        dir.path(),
        "all.tlog-proof",
        &proof_signed_by(&log, &v.iter().collect::<Vec<_>>()).to_bytes(),
    );
    verify(&all, &[stranger()], &[]).assert_fails(1, &["only 0 of the required 1"]);
    // A key with a validator's name but another public key: its key ID differs, so the
    // validator's signature is not by this key.
    let impostor = Signer::new("kemensos.example", 42);
    verify(&all, &[impostor], &[]).assert_fails(1, &["only 0 of the required 1"]);

    // Signed by two: not a quorum of three.
    let two = write(
        dir.path(),
        "two.tlog-proof",
        &proof_signed_by(&log, &[&v[0], &v[2]]).to_bytes(),
    );
    verify(&two, &v, &["--quorum", "3"])
        .assert_fails(1, &["two.tlog-proof", "only 2 of the required 3"]);
    verify(&two, &v, &["--quorum", "2"]).assert_ok(&format!(
        "OK index={INDEX} size={SIZE} root={}",
        log.root(SIZE)
    ));

    // Garbage and missing files.
    let garbage = write(
        dir.path(),
        "garbage.tlog-proof",
        b"c2sp.org/tlog-proof@v2\nindex 1\n\nx\n",
    );
    verify(&garbage, &v, &[]).assert_fails(1, &["garbage.tlog-proof", "malformed"]);
    verify(&dir.path().join("missing.tlog-proof"), &v, &[])
        .assert_fails(2, &["missing.tlog-proof"]);
}
