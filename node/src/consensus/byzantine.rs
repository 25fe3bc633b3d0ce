//! Byzantine validators, for the network tests only: the `[byzantine]` section of `node.toml`.
//! With the cargo feature `byzantine`, it puts Malachite's `ByzantineNetworkProxy`
//! (`arc-malachitebft-engine-byzantine`) between the engine and the network, which equivocates
//! or drops this validator's proposals and votes and drops proposals it receives, each on a
//! seeded trigger, and switches on this application's own [`Faults`] (`[byzantine.app]`:
//! forged checkpoint signatures, invalid transactions, block times out of bounds). Without
//! the feature the section is refused, so a shipped validator cannot be made to misbehave by
//! its configuration.
//!
//! Malachite leaves `ignore_locks` (amnesia) and `force_precommit_nil` to the integration: the
//! engine applies its voting lock before the proxy sees a vote. Here a signer and a verifier
//! around the validator's own (`ByzantineSigner`, `ByzantineVerifier`) rewrite its vote just
//! before it is signed: a nil prevote becomes a prevote for the latest proposal seen at that
//! height and round (Malachite's `Amnesia`, fed with every proposal signed or verified), a
//! precommit for a value becomes nil. The engine then records and sends the rewritten vote.

use serde::de::{Deserialize, Deserializer, Error as _};

use super::core::Faults;

use malachitebft_app_channel::{Signer, Verifier};

use super::ctx::{Address, BansosContext};
use super::signing::{ConsensusSigner, ConsensusVerifier};

#[cfg(feature = "byzantine")]
pub use imp::{
    Byzantine, ByzantineSigner, ByzantineVerifier, conflicting_value, conflicting_vote_value,
};
#[cfg(not(feature = "byzantine"))]
pub use off::Byzantine;

/// The signer and verifier of this validator's consensus messages: its own, or, for a
/// Byzantine validator whose votes are rewritten, wrapped in `ByzantineSigner` and
/// `ByzantineVerifier`.
pub fn signer_and_verifier(
    byzantine: Option<&Byzantine>,
    ctx: &BansosContext,
    me: Address,
    seed: [u8; 32],
) -> (
    Box<dyn Signer<BansosContext>>,
    Box<dyn Verifier<BansosContext>>,
) {
    let signer = ConsensusSigner::new(ctx.clone(), seed);
    let verifier = ConsensusVerifier::new(ctx.clone());
    match byzantine {
        None => (Box::new(signer), Box::new(verifier)),
        #[cfg(feature = "byzantine")]
        Some(b) => imp::rewriting(b, me, signer, verifier),
        #[cfg(not(feature = "byzantine"))]
        Some(b) => {
            let _ = me;
            match *b {}
        }
    }
}

/// What a build without the feature answers to a `[byzantine]` section.
pub const NOT_BUILT: &str =
    "this build has no Byzantine test support; build with --features byzantine";

impl<'de> Deserialize<'de> for Byzantine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Byzantine::from_toml(toml::Table::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(not(feature = "byzantine"))]
mod off {
    use super::{Faults, NOT_BUILT};

    /// A `[byzantine]` section: none can exist in a build without the feature.
    #[derive(Clone, Debug)]
    pub enum Byzantine {}

    impl Byzantine {
        pub(super) fn from_toml(_: toml::Table) -> Result<Byzantine, String> {
            Err(NOT_BUILT.into())
        }

        /// This application's faults.
        pub fn faults(&self) -> Faults {
            match *self {}
        }
    }
}

#[cfg(feature = "byzantine")]
mod imp {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use bytes::Bytes;
    use malachitebft_app_channel::app::types::core::{
        NilOrVal, Round, SignedExtension, SignedProposal, SignedVote, ValidatorProof, Value as _,
        VoteExtensionScope, VoteType,
    };
    use malachitebft_app_channel::{Signer, Verifier};
    use malachitebft_engine_byzantine::config::make_rng;
    use malachitebft_engine_byzantine::{Amnesia, ByzantineConfig};
    use malachitebft_signing::{Error, VerificationResult};
    use malachitebft_signing_ed25519::{PublicKey, Signature};

    use super::Faults;
    use crate::consensus::ctx::{
        Address, BansosContext, BlockHeader, Height, Proposal, ValueId, Vote,
    };
    use crate::consensus::signing::{ConsensusSigner, ConsensusVerifier};

    /// The `[byzantine]` section of `node.toml`: how this validator misbehaves, on purpose.
    #[derive(Clone, Debug)]
    pub struct Byzantine {
        /// Malachite's proxy: what happens to this validator's outgoing proposals and votes
        /// and to the proposals it receives (every key of `[byzantine]` but `app`).
        pub proxy: ByzantineConfig,
        /// This application's faults (`[byzantine.app]`).
        pub app: Faults,
    }

    impl Byzantine {
        /// Reads the section: Malachite's triggers with a seed, and `app`. A key neither
        /// knows, a trigger Malachite refuses or one this node cannot carry out is an error.
        pub(super) fn from_toml(mut table: toml::Table) -> Result<Byzantine, String> {
            let app: Faults = match table.remove("app") {
                Some(v) => v.try_into().map_err(|e| format!("[byzantine.app]: {e}"))?,
                None => Faults::default(),
            };
            let given = toml::Value::Table(table);
            let proxy: ByzantineConfig = given.clone().try_into().map_err(|e| e.to_string())?;
            // Malachite's config ignores keys it does not know, so a misspelt trigger would
            // silently do nothing: every key given must come back when the config is written.
            let known = toml::Value::try_from(&proxy).map_err(|e| e.to_string())?;
            unknown_key(&given, &known, "byzantine")?;
            if proxy.seed.is_none() {
                return Err("[byzantine] needs a seed, so that a run can be repeated".into());
            }
            proxy.validate().map_err(|e| format!("[byzantine]: {e}"))?;
            if !proxy.is_active() && app == Faults::default() {
                return Err("[byzantine] switches on no fault".into());
            }
            Ok(Byzantine { proxy, app })
        }

        /// This application's faults.
        pub fn faults(&self) -> Faults {
            self.app.clone()
        }
    }

    /// A validator's own votes, rewritten on `ignore_locks` and `force_precommit_nil`.
    struct Votes {
        amnesia: Amnesia<BansosContext>,
        /// Whether `force_precommit_nil` fires at (height, round): its trigger with its own
        /// seeded generator.
        force_nil: Mutex<Box<dyn FnMut(Height, Round) -> bool + Send>>,
    }

    impl Votes {
        fn saw(&self, p: &Proposal) {
            self.amnesia
                .record_proposed_value(p.height, p.round, p.value.id());
        }

        fn rewrite(&self, vote: Vote) -> Vote {
            let (h, r, me) = (vote.height, vote.round, vote.validator);
            match (vote.vote_type, &vote.value) {
                // Amnesia logs the override itself.
                (VoteType::Prevote, NilOrVal::Nil) => {
                    match self.amnesia.try_override_nil_prevote(h, r) {
                        Some(id) => Vote::new(VoteType::Prevote, h, r, NilOrVal::Val(id), me),
                        None => vote,
                    }
                }
                (VoteType::Precommit, NilOrVal::Val(_))
                    if (self.force_nil.lock().expect("trigger lock"))(h, r) =>
                {
                    tracing::warn!(height = %h, round = %r, "BYZANTINE: Forcing a nil precommit");
                    Vote::new(VoteType::Precommit, h, r, NilOrVal::Nil, me)
                }
                _ => vote,
            }
        }
    }

    /// The signer and verifier of a Byzantine validator: its own, wrapped when its votes are
    /// to be rewritten.
    pub(super) fn rewriting(
        b: &Byzantine,
        me: Address,
        signer: ConsensusSigner,
        verifier: ConsensusVerifier,
    ) -> (
        Box<dyn Signer<BansosContext>>,
        Box<dyn Verifier<BansosContext>>,
    ) {
        let (ignore, force) = (&b.proxy.ignore_locks, &b.proxy.force_precommit_nil);
        if !ignore.is_set() && !force.is_set() {
            return (Box::new(signer), Box::new(verifier));
        }
        let seed = b.proxy.seed.expect("checked when read");
        // Its own generator, so that it does not shift the proxy's draws.
        let mut rng = make_rng(Some(seed.wrapping_add(1)));
        let trigger = force.clone();
        let votes = Arc::new(Votes {
            amnesia: Amnesia::new(ignore.clone(), Some(seed)),
            force_nil: Mutex::new(Box::new(move |h, r| trigger.fires(h, r, &mut rng))),
        });
        tracing::warn!(
            ?ignore, ?force, validator = %me,
            "BYZANTINE: this validator's own votes are rewritten before they are signed (test only)"
        );
        (
            Box::new(ByzantineSigner {
                inner: signer,
                votes: votes.clone(),
            }),
            Box::new(ByzantineVerifier {
                inner: verifier,
                votes,
            }),
        )
    }

    /// Signs as [`ConsensusSigner`], after rewriting the vote; remembers the proposals it
    /// signs (for amnesia).
    pub struct ByzantineSigner {
        inner: ConsensusSigner,
        votes: Arc<Votes>,
    }

    #[async_trait]
    impl Signer<BansosContext> for ByzantineSigner {
        async fn sign_vote(&self, vote: Vote) -> Result<SignedVote<BansosContext>, Error> {
            self.inner.sign_vote(self.votes.rewrite(vote)).await
        }

        async fn sign_proposal(
            &self,
            proposal: Proposal,
        ) -> Result<SignedProposal<BansosContext>, Error> {
            self.votes.saw(&proposal);
            self.inner.sign_proposal(proposal).await
        }

        async fn sign_vote_extension(
            &self,
            scope: VoteExtensionScope<BansosContext>,
            extension: Bytes,
        ) -> Result<SignedExtension<BansosContext>, Error> {
            self.inner.sign_vote_extension(scope, extension).await
        }

        async fn sign_validator_proof(
            &self,
            public_key: Vec<u8>,
            peer_id: Vec<u8>,
        ) -> Result<ValidatorProof<BansosContext>, Error> {
            self.inner.sign_validator_proof(public_key, peer_id).await
        }
    }

    /// Verifies as [`ConsensusVerifier`]; remembers the proposals whose signature verifies
    /// (for amnesia).
    pub struct ByzantineVerifier {
        inner: ConsensusVerifier,
        votes: Arc<Votes>,
    }

    #[async_trait]
    impl Verifier<BansosContext> for ByzantineVerifier {
        async fn verify_signed_vote(
            &self,
            vote: &Vote,
            signature: &Signature,
            public_key: &PublicKey,
        ) -> Result<VerificationResult, Error> {
            self.inner
                .verify_signed_vote(vote, signature, public_key)
                .await
        }

        async fn verify_signed_proposal(
            &self,
            proposal: &Proposal,
            signature: &Signature,
            public_key: &PublicKey,
        ) -> Result<VerificationResult, Error> {
            let result = self
                .inner
                .verify_signed_proposal(proposal, signature, public_key)
                .await?;
            if result.is_valid() {
                self.votes.saw(proposal);
            }
            Ok(result)
        }

        async fn verify_signed_vote_extension(
            &self,
            scope: &VoteExtensionScope<BansosContext>,
            extension: &Bytes,
            signature: &Signature,
            public_key: &PublicKey,
        ) -> Result<VerificationResult, Error> {
            self.inner
                .verify_signed_vote_extension(scope, extension, signature, public_key)
                .await
        }

        async fn verify_validator_proof(
            &self,
            proof: &ValidatorProof<BansosContext>,
        ) -> Result<VerificationResult, Error> {
            self.inner.verify_validator_proof(proof).await
        }
    }

    /// The first key of `given` (at any depth) that `known` does not have.
    fn unknown_key(given: &toml::Value, known: &toml::Value, at: &str) -> Result<(), String> {
        if let (toml::Value::Table(given), toml::Value::Table(known)) = (given, known) {
            for (key, value) in given {
                let at = format!("{at}.{key}");
                match known.get(key) {
                    Some(k) => unknown_key(value, k, &at)?,
                    None => return Err(format!("unknown key {at}")),
                }
            }
        }
        Ok(())
    }

    /// The header a proposer equivocates with: the same but for one bit of the body hash.
    pub fn conflicting_value(header: &BlockHeader) -> BlockHeader {
        let mut other = *header;
        other.body_hash.0[31] ^= 1;
        other
    }

    /// The value a voter equivocates with: another id than the one it voted for, or a made-up
    /// one for a nil vote.
    pub fn conflicting_vote_value(id: Option<&ValueId>) -> ValueId {
        let mut other = id.copied().unwrap_or(ValueId([0xBB; 32]));
        other.0[31] ^= 1;
        other
    }

    #[cfg(test)]
    mod tests {
        use malachitebft_app_channel::app::types::core::Value as _;
        use malachitebft_engine_byzantine::Trigger;

        use super::*;

        fn parse(text: &str) -> Result<Byzantine, String> {
            Byzantine::from_toml(toml::from_str(text).expect("TOML"))
        }

        #[test]
        fn the_section_is_read_with_its_triggers_and_app_faults() {
            let b = parse(
                "seed = 7\n\
                 equivocate_votes = { mode = \"random\", probability = 0.3 }\n\
                 drop_proposals = { mode = \"at_heights\", heights = [5, 9] }\n\
                 [app]\nforge_checkpoint_signature = true\nblock_time_offset_s = -3600\n",
            )
            .unwrap();
            assert_eq!(b.proxy.seed, Some(7));
            assert_eq!(
                b.proxy.equivocate_votes,
                Trigger::Random { probability: 0.3 }
            );
            assert_eq!(
                b.proxy.drop_proposals,
                Trigger::AtHeights {
                    heights: vec![5, 9]
                }
            );
            assert_eq!(
                b.faults(),
                Faults {
                    forge_checkpoint_signature: true,
                    block_time_offset_s: -3600,
                    ..Faults::default()
                }
            );
            // App faults alone are a valid section.
            assert!(parse("seed = 1\n[app]\ninvalid_tx_in_proposal = true\n").is_ok());
        }

        #[test]
        fn a_bad_section_is_refused_with_the_reason() {
            for (text, why) in [
                (
                    "seed = 1\nequivocate_vote = { mode = \"always\" }",
                    "unknown key byzantine.equivocate_vote",
                ),
                (
                    "seed = 1\ndrop_votes = { mode = \"random\", probability = 0.3, often = 2 }",
                    "unknown key byzantine.drop_votes.often",
                ),
                ("seed = 1\n[app]\nforge = true", "unknown field `forge`"),
                ("drop_votes = { mode = \"always\" }", "needs a seed"),
                (
                    "seed = 1\nforce_precommit_nil = { mode = \"always\" }\nequivocate_votes = { mode = \"always\" }",
                    "cannot both be set",
                ),
                (
                    "seed = 1\ndrop_votes = { mode = \"always\" }\nequivocate_votes = { mode = \"always\" }",
                    "cannot both be set",
                ),
                (
                    "seed = 1\ndrop_votes = { mode = \"random\", probability = 2.0 }",
                    "probability",
                ),
                (
                    "seed = 1\ndrop_votes = { mode = \"sometimes\" }",
                    "sometimes",
                ),
                ("seed = 1", "no fault"),
            ] {
                let err = parse(text).expect_err(text);
                assert!(err.contains(why), "{text}: {err}");
            }
        }

        #[test]
        fn own_votes_are_rewritten_before_they_are_signed() {
            let ctx = BansosContext {
                network_id: [7; 32],
            };
            let me = Address(3);
            let b = parse(
                "seed = 5\nignore_locks = { mode = \"always\" }\n\
                 force_precommit_nil = { mode = \"always\" }\n",
            )
            .unwrap();
            let own = ConsensusSigner::new(ctx.clone(), [1; 32]);
            let own_key = own.public_key();
            let (signer, verifier) = rewriting(&b, me, own, ConsensusVerifier::new(ctx.clone()));
            let (h, r) = (Height(4), Round::new(0));
            let header = BlockHeader {
                height: 4,
                time: 1_700_000_000,
                tx_count: 0,
                body_hash: bansos_verifier::hash::Hash([9; 32]),
            };
            let vote = |t, value| Vote::new(t, h, r, value, me);
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                // A nil prevote with no proposal seen stays nil.
                let v = signer
                    .sign_vote(vote(VoteType::Prevote, NilOrVal::Nil))
                    .await
                    .unwrap();
                assert_eq!(v.message.value, NilOrVal::Nil);
                // Another validator's proposal, verified: a nil prevote becomes a vote for it.
                let other = ConsensusSigner::new(ctx.clone(), [2; 32]);
                let p = Proposal {
                    height: h,
                    round: r,
                    value: header,
                    pol_round: Round::Nil,
                    proposer: Address(1),
                };
                let signed = other.sign_proposal(p.clone()).await.unwrap();
                let ok = verifier
                    .verify_signed_proposal(&p, &signed.signature, &other.public_key())
                    .await
                    .unwrap();
                assert!(ok.is_valid());
                let v = signer
                    .sign_vote(vote(VoteType::Prevote, NilOrVal::Nil))
                    .await
                    .unwrap();
                assert_eq!(v.message.value, NilOrVal::Val(header.id()));
                // A precommit for a value becomes nil, signed as such.
                let v = signer
                    .sign_vote(vote(VoteType::Precommit, NilOrVal::Val(header.id())))
                    .await
                    .unwrap();
                assert_eq!(v.message.value, NilOrVal::Nil);
                assert!(v.message.extension.is_none());
                let ok = verifier
                    .verify_signed_vote(&v.message, &v.signature, &own_key)
                    .await
                    .unwrap();
                assert!(ok.is_valid());
                // A prevote for a value is left alone.
                let v = signer
                    .sign_vote(vote(VoteType::Prevote, NilOrVal::Val(header.id())))
                    .await
                    .unwrap();
                assert_eq!(v.message.value, NilOrVal::Val(header.id()));
            });
        }

        #[test]
        fn conflicting_values_differ_from_the_original() {
            let h = BlockHeader {
                height: 3,
                time: 1_700_000_000,
                tx_count: 2,
                body_hash: bansos_verifier::hash::Hash([9; 32]),
            };
            let other = conflicting_value(&h);
            assert_ne!(other.id(), h.id());
            assert_eq!((other.height, other.time, other.tx_count), (3, h.time, 2));
            let id = h.id();
            assert_ne!(conflicting_vote_value(Some(&id)), id);
            assert_ne!(
                conflicting_vote_value(None),
                conflicting_vote_value(Some(&id))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::node::NodeConfig;

    const NODE_TOML: &str = "genesis = \"genesis.json\"\nkey = \"k.key\"\ndata_dir = \"data\"\n\
        http_listen = \"127.0.0.1:8700\"\n";

    #[test]
    fn node_toml_takes_the_section_only_in_a_build_with_the_feature() {
        let plain: NodeConfig = toml::from_str(NODE_TOML).unwrap();
        assert!(plain.byzantine.is_none());
        let with = format!(
            "{NODE_TOML}[byzantine]\nseed = 1\n[byzantine.app]\ninvalid_tx_in_proposal = true\n"
        );
        let parsed = toml::from_str::<NodeConfig>(&with);
        #[cfg(feature = "byzantine")]
        assert!(
            parsed
                .unwrap()
                .byzantine
                .unwrap()
                .faults()
                .invalid_tx_in_proposal
        );
        #[cfg(not(feature = "byzantine"))]
        {
            let err = parsed.unwrap_err().to_string();
            assert!(err.contains(super::NOT_BUILT), "{err}");
        }
    }
}
