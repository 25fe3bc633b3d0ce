//! An offline proof for one receipt: the allocation's entry, its inclusion proof and the
//! checkpoint signed by a quorum of validators, as a C2SP tlog-proof bundle. It is checked under
//! the network's trust policy before it is written, so a bundle never carries a bad proof.

use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::hash::{Hash, TreeSize, leaf_hash};
use bansos_verifier::note::{Note, Policy};
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
        extra: Some(entry.clone()),
        index,
        proof,
        checkpoint: note_bytes,
    };
    let policy =
        Policy::new(network.validator_vkeys(), network.checkpoint_quorum()).map_err(|e| bad(&e))?;
    bundle
        .verify(&leaf_hash(&entry), Some(&network.genesis.origin), &policy)
        .map_err(|e| bad(&e))?;
    let leaf = bansos_verifier::entry::Leaf::decode(&entry).map_err(|e| bad(&e))?;
    match &leaf.tx.body {
        bansos_verifier::entry::TxBody::Allocation(a) if a.id == receipt.allocation => Ok(bundle),
        _ => Err(bad(
            &"the entry at the receipt's index is not its allocation",
        )),
    }
}
