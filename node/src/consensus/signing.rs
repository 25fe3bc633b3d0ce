//! The consensus signer and verifier: Ed25519 over the sign bytes of [`super::ctx`]. The
//! consensus key is the member's genesis key.

use async_trait::async_trait;
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::{
    SignedExtension, SignedMessage, SignedProposal, SignedVote, ValidatorProof, VoteExtensionScope,
};
use malachitebft_app_channel::{Signer, Verifier};
use malachitebft_signing::{Error, VerificationResult};
use malachitebft_signing_ed25519::{PrivateKey, PublicKey, Signature};

use super::ctx::{
    BansosContext, Proposal, Vote, extension_sign_bytes, proposal_sign_bytes, vote_sign_bytes,
};

/// Signs votes, proposals, vote extensions and the proof of validator with one key.
pub struct ConsensusSigner {
    ctx: BansosContext,
    key: PrivateKey,
}

impl ConsensusSigner {
    /// A signer for this context with the member's 32-byte Ed25519 seed.
    pub fn new(ctx: BansosContext, seed: [u8; 32]) -> ConsensusSigner {
        ConsensusSigner {
            ctx,
            key: PrivateKey::from(seed),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }
}

/// Verifies consensus signatures.
pub struct ConsensusVerifier {
    ctx: BansosContext,
}

impl ConsensusVerifier {
    /// A verifier for this context.
    pub fn new(ctx: BansosContext) -> ConsensusVerifier {
        ConsensusVerifier { ctx }
    }
}

fn verify(msg: &[u8], sig: &Signature, key: &PublicKey) -> VerificationResult {
    VerificationResult::from_bool(key.verify(msg, sig).is_ok())
}

#[async_trait]
impl Signer<BansosContext> for ConsensusSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedVote<BansosContext>, Error> {
        let signature = self.key.sign(&vote_sign_bytes(&self.ctx, &vote));
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedProposal<BansosContext>, Error> {
        let signature = self.key.sign(&proposal_sign_bytes(&self.ctx, &proposal));
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<BansosContext>,
        extension: Bytes,
    ) -> Result<SignedExtension<BansosContext>, Error> {
        let signature = self
            .key
            .sign(&extension_sign_bytes(&self.ctx, &scope, &extension));
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<BansosContext>, Error> {
        let signature = self
            .key
            .sign(&ValidatorProof::<BansosContext>::signing_bytes(
                &public_key,
                &peer_id,
            ));
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

#[async_trait]
impl Verifier<BansosContext> for ConsensusVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(
            &vote_sign_bytes(&self.ctx, vote),
            signature,
            public_key,
        ))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(
            &proposal_sign_bytes(&self.ctx, proposal),
            signature,
            public_key,
        ))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<BansosContext>,
        extension: &Bytes,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(
            &extension_sign_bytes(&self.ctx, scope, extension),
            signature,
            public_key,
        ))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<BansosContext>,
    ) -> Result<VerificationResult, Error> {
        let Ok(key) = <[u8; 32]>::try_from(proof.public_key.as_slice()) else {
            return Ok(VerificationResult::Invalid);
        };
        let Ok(key) = PublicKey::from_bytes(key) else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(verify(
            &ValidatorProof::<BansosContext>::signing_bytes(&proof.public_key, &proof.peer_id),
            &proof.signature,
            &key,
        ))
    }
}
