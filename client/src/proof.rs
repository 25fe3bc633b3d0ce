//! An offline proof for one receipt: the allocation's entry, its inclusion proof and the
//! checkpoint signed by a quorum of validators, as a C2SP tlog-proof bundle. It is checked under
//! the network's genesis before it is written, so a bundle never carries a bad proof: the
//! checkpoint against the validators of its epoch, which after governance changes the node's
//! key history (`/key-history`) leads to from the genesis keys, each change checked against the
//! votes of the validators before it.

use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::governance::KeyHistory;
use bansos_verifier::hash::{Hash, TreeSize, leaf_hash};
use bansos_verifier::merkle::verify_inclusion;
use bansos_verifier::note::Note;
use bansos_verifier::receipt::Receipt;
use bansos_verifier::tile::{TileKind, parse_bundle, tile_at_size};
use bansos_verifier::tlog_proof::TlogProof;

use crate::api::{ApiError, Nodes};

/// Why no bundle could be made.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The validators.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// What a validator served does not hold up.
    #[error("the validator served something that does not verify: {0}")]
    Bad(String),
    /// Not in the published log yet.
    #[error("this receipt's entry is not yet in the published checkpoint; try again shortly")]
    NotYet,
}

/// Fetches, checks and returns the bundle for `receipt`.
pub fn bundle(
    nodes: &mut Nodes,
    network: &Network,
    receipt: &Receipt,
) -> Result<TlogProof, ProofError> {
    bundle_and_history(nodes, network, receipt).map(|(bundle, _)| bundle)
}

/// [`bundle`], with the node's key history when the validators changed since genesis: whoever
/// verifies the bundle of a later epoch needs it too (`bansos-verify proof --policy policy.json
/// --key-history FILE`).
pub fn bundle_and_history(
    nodes: &mut Nodes,
    network: &Network,
    receipt: &Receipt,
) -> Result<(TlogProof, Option<Vec<u8>>), ProofError> {
    let bad = |e: &dyn std::fmt::Display| ProofError::Bad(e.to_string());
    let note_bytes = nodes.get_bytes("/checkpoint")?.ok_or(ProofError::NotYet)?;
    let note = Note::parse(&note_bytes).map_err(|e| bad(&e))?;
    let cp = Checkpoint::parse_body(note.text()).map_err(|e| bad(&e))?;
    let index = receipt.leaf_index;
    if index.0 >= cp.size.0 {
        return Err(ProofError::NotYet);
    }
    let tile = tile_at_size(TileKind::Entries, index.0 / 256, TreeSize(cp.size.0))
        .ok_or(ProofError::NotYet)?;
    let bytes = nodes
        .get_bytes(&format!("/{}", tile.path()))?
        .ok_or(ProofError::NotYet)?;
    let entries = parse_bundle(&tile, &bytes).map_err(|e| bad(&e))?;
    let entry = entries
        .get((index.0 % 256) as usize)
        .ok_or_else(|| bad(&"the entry bundle is short"))?
        .to_vec();
    let json = nodes
        .get_json(&format!(
            "/v1/proof/inclusion?index={}&size={}",
            index.0, cp.size.0
        ))?
        .ok_or(ProofError::NotYet)?;
    let proof = json["proof"]
        .as_array()
        .ok_or_else(|| bad(&"no proof"))?
        .iter()
        .map(|h| h.as_str().and_then(Hash::from_base64))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad(&"a proof hash is not base64"))?;
    let bundle = TlogProof {
        extra: Some(entry),
        index,
        proof,
        checkpoint: note_bytes,
    };
    // A node older than governance serves none (404): the genesis keys must then do.
    let key_history = nodes.get_bytes("/key-history")?;
    let epoch = check(network, key_history.as_deref(), &bundle, receipt)?;
    Ok((bundle, key_history.filter(|_| epoch > 0)))
}

/// Checks a bundle for `receipt` under the genesis of `network`, following `key_history` when
/// given: the checkpoint's origin and the signatures of the validators of its epoch, the
/// inclusion of the entry in `extra`, and that the entry is the receipt's allocation. Returns
/// the checkpoint's epoch.
pub fn check(
    network: &Network,
    key_history: Option<&[u8]>,
    bundle: &TlogProof,
    receipt: &Receipt,
) -> Result<u64, ProofError> {
    let bad = |e: &dyn std::fmt::Display| ProofError::Bad(e.to_string());
    let origin = &network.genesis.origin;
    let mut history = KeyHistory::new(network.genesis_roster());
    if let Some(h) = key_history {
        history
            .follow(&network.id, origin, h)
            .map_err(|e| bad(&format!("its key history: {e}")))?;
    }
    let cp = history
        .verify_checkpoint(&bundle.checkpoint, Some(origin), false)
        .map_err(|e| bad(&e))?;
    let entry = bundle
        .extra
        .as_deref()
        .ok_or_else(|| bad(&"the bundle carries no entry"))?;
    verify_inclusion(
        &leaf_hash(entry),
        bundle.index,
        cp.checkpoint.size,
        &bundle.proof,
        &cp.checkpoint.root,
    )
    .map_err(|e| bad(&e))?;
    let leaf = bansos_verifier::entry::Leaf::decode(entry).map_err(|e| bad(&e))?;
    match &leaf.tx.body {
        bansos_verifier::entry::TxBody::Allocation(a) if a.id == receipt.allocation => {
            Ok(history.roster_for(cp.checkpoint.size.0).epoch)
        }
        _ => Err(bad(
            &"the entry at the receipt's index is not its allocation",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Role};
    use bansos_verifier::entry::{
        Allocation, AllocationId, Leaf, MemberId, Period, ProgramCode, RegionCode, Rupiah,
        SignedTx, TxBody,
    };
    use bansos_verifier::governance::{
        Change, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRotation, Link, Vote,
    };
    use bansos_verifier::hash::LeafIndex;
    use bansos_verifier::merkle::{inclusion_proof, root};
    use bansos_verifier::note::NoteSignature;
    use ed25519_dalek::SigningKey;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i + 11; 32])
    }

    fn network() -> Network {
        let members = (0..4u8)
            .map(|i| Member {
                id: MemberId(u16::from(i)),
                name: format!("v{i}"),
                display_name: format!("Validator {i}"),
                role: if i < 2 { Role::Ministry } else { Role::Bank },
                public_key: data_encoding::HEXLOWER.encode(key(i).verifying_key().as_bytes()),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 9000 + u16::from(i)),
                voting_power: 1,
            })
            .collect();
        let g = Genesis {
            format: 1,
            network_name: "client proof test".into(),
            origin: "ledger.bansos.example/client-test".into(),
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

    /// Leaves of a log whose entry 2 is an allocation; the others are opaque.
    fn log(net: &Network) -> (Vec<Vec<u8>>, AllocationId) {
        let id = AllocationId([5; 16]);
        let alloc = Allocation {
            id,
            program: ProgramCode::new("PKH").unwrap(),
            period: Period::new("2026Q4").unwrap(),
            region: RegionCode::new(3171).unwrap(),
            amount: Rupiah(750_000),
            payer: MemberId(2),
            beneficiary_commitment: Hash([1; 32]),
            dedup_tag: Hash([2; 32]),
            claim_lock: Hash([3; 32]),
            expires_at: 2_000_000_000,
        };
        let tx = SignedTx::sign(&net.id, MemberId(0), TxBody::Allocation(alloc), &key(0)).unwrap();
        let leaf = Leaf {
            height: 3,
            block_time: 1_800_000_000,
            tx,
        };
        let mut leaves: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 8]).collect();
        leaves[2] = leaf.encode();
        (leaves, id)
    }

    fn checkpoint(
        net: &Network,
        leaves: &[Vec<u8>],
        size: u64,
        signers: &[(&str, &SigningKey)],
    ) -> Vec<u8> {
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        let root = root(&hashes[..size as usize], TreeSize(size)).unwrap();
        let cp = Checkpoint::new(&net.genesis.origin, TreeSize(size), root);
        let body = cp.body();
        cp.to_note(
            signers
                .iter()
                .map(|(n, k)| NoteSignature::sign(n, k, &body)),
        )
        .to_bytes()
    }

    fn bundle(leaves: &[Vec<u8>], size: u64, checkpoint: Vec<u8>) -> TlogProof {
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        TlogProof {
            extra: Some(leaves[2].clone()),
            index: LeafIndex(2),
            proof: inclusion_proof(&hashes[..size as usize], LeafIndex(2), TreeSize(size))
                .unwrap()
                .unwrap(),
            checkpoint,
        }
    }

    #[test]
    fn a_bundle_of_a_later_epoch_is_checked_through_the_key_history() {
        let net = network();
        let (leaves, id) = log(&net);
        let receipt = Receipt {
            network_tag: [0; 4],
            leaf_index: LeafIndex(2),
            allocation: id,
            salt: [0; 32],
            claim_secret: [0; 16],
        };
        let (k0, k1, k2, k4) = (key(0), key(1), key(2), key(4));
        // Before any change: the genesis keys.
        let genesis_cp = checkpoint(&net, &leaves, 4, &[("v0", &k0), ("v1", &k1), ("v2", &k2)]);
        assert_eq!(
            check(&net, None, &bundle(&leaves, 4, genesis_cp), &receipt).unwrap(),
            0
        );

        // Epoch 1 rotates v3's key (to key 4) from size 5; the checkpoint of size 6 is signed
        // by v1, v2 and v3's new key: three of four, but only two genesis keys.
        let rotate = Change::RotateKey(KeyRotation::sign(&net.id, MemberId(3), &k4, Some(&key(3))));
        let votes = [(0u16, &k0), (1, &k1), (2, &k2)]
            .iter()
            .map(|(m, k)| {
                let body = TxBody::Vote(Vote {
                    epoch: 0,
                    change: rotate.clone(),
                });
                data_encoding::HEXLOWER.encode(
                    &SignedTx::sign(&net.id, MemberId(*m), body, k)
                        .unwrap()
                        .encode(),
                )
            })
            .collect();
        let epoch_1 = [("v0", &k0), ("v1", &k1), ("v2", &k2), ("v3", &k4)];
        let history = serde_json::to_vec(&KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            network_id: Some(net.id),
            links: vec![Link {
                epoch: 1,
                change: data_encoding::HEXLOWER.encode(&rotate.to_bytes()),
                votes,
                checkpoint: String::from_utf8(checkpoint(&net, &leaves, 5, &epoch_1)).unwrap(),
            }],
        })
        .unwrap();
        let later = bundle(&leaves, 6, checkpoint(&net, &leaves, 6, &epoch_1[1..]));
        assert!(matches!(
            check(&net, None, &later, &receipt),
            Err(ProofError::Bad(_))
        ));
        assert_eq!(check(&net, Some(&history), &later, &receipt).unwrap(), 1);
        // v3's old key no longer counts from the epoch's start.
        let k3 = key(3);
        let old = bundle(
            &leaves,
            6,
            checkpoint(&net, &leaves, 6, &[("v1", &k1), ("v2", &k2), ("v3", &k3)]),
        );
        assert!(check(&net, Some(&history), &old, &receipt).is_err());
        assert_eq!(check(&net, None, &old, &receipt).unwrap(), 0);
        // A history that does not follow is refused, and so is another allocation's entry.
        assert!(check(&net, Some(b"{}"), &later, &receipt).is_err());
        let other = Receipt {
            allocation: AllocationId([6; 16]),
            ..receipt
        };
        assert!(check(&net, Some(&history), &later, &other).is_err());
    }
}
