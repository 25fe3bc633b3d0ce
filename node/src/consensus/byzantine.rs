//! Byzantine validators, for the network tests only: the `[byzantine]` section of `node.toml`.
//! With the cargo feature `byzantine`, it puts Malachite's `ByzantineNetworkProxy`
//! (`arc-malachitebft-engine-byzantine`) between the engine and the network, which equivocates
//! or drops this validator's proposals and votes and drops proposals it receives, each on a
//! seeded trigger, and switches on this application's own [`Faults`] (`[byzantine.app]`:
//! forged checkpoint signatures, invalid transactions, block times out of bounds). Without
//! the feature the section is refused, so a shipped validator cannot be made to misbehave by
//! its configuration.
//!
//! Malachite's `ignore_locks` and `force_precommit_nil` are refused: the proxy does not do
//! them (it sees votes only once signed), and this node has no hook for them in its context's
//! vote constructors.

use serde::de::{Deserialize, Deserializer, Error as _};

use super::core::Faults;

#[cfg(feature = "byzantine")]
pub use imp::{Byzantine, conflicting_value, conflicting_vote_value};
#[cfg(not(feature = "byzantine"))]
pub use off::Byzantine;

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
    use malachitebft_engine_byzantine::{ByzantineConfig, Trigger};

    use super::Faults;
    use crate::consensus::ctx::{BlockHeader, ValueId};

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
            for (name, trigger) in [
                ("ignore_locks", &proxy.ignore_locks),
                ("force_precommit_nil", &proxy.force_precommit_nil),
            ] {
                if *trigger != Trigger::Never {
                    return Err(format!(
                        "[byzantine] {name} is not supported by bansos-node: Malachite's proxy \
                         does not do it, and this node has no hook for it"
                    ));
                }
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
                    "seed = 1\nignore_locks = { mode = \"always\" }",
                    "ignore_locks is not supported",
                ),
                (
                    "seed = 1\nforce_precommit_nil = { mode = \"always\" }",
                    "force_precommit_nil is not supported",
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
