//! The genesis ceremony without anyone seeing another member's key: each member draws its key
//! on its own machine and publishes a *member card* (its name, role, display name, public key,
//! peer-to-peer address and, for a ministry, a commitment to its dedup key); a coordinator
//! assembles the genesis from the cards alone; each member then approves the genesis by signing
//! its network id ([`approval_text`]), and anyone can count the approvals.
//!
//! A card is JSON ([`MemberCard`]); it must never carry a private key, and [`MemberCard::parse`]
//! refuses one that looks like it does.

use serde::{Deserialize, Serialize};

use crate::config::MemberConfig;
use crate::{Role, is_member_name_valid};
use bansos_verifier::entry::NetworkId;
use bansos_verifier::hash::Hash;

/// The `format` of a member card.
pub const CARD_FORMAT: &str = "bansos-member-card/v1";
/// Largest card file accepted.
pub const CARD_BYTES_MAX: usize = 4096;
/// Prefix of a dedup-key commitment, so that a bare key pasted in its place is told apart.
pub const DEDUP_COMMITMENT_PREFIX: &str = "sha256:";

/// One member's public card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberCard {
    /// [`CARD_FORMAT`].
    pub format: String,
    /// Short name (its key name and file name).
    pub name: String,
    /// Full name for people.
    pub display_name: String,
    /// What it may submit.
    pub role: Role,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Host name or IPv4 address of its peer-to-peer endpoint.
    pub host: String,
    /// Its peer-to-peer TCP port.
    pub p2p_port: u16,
    /// For a ministry: [`DEDUP_COMMITMENT_PREFIX`] and the hex SHA-256 of its dedup key, so
    /// that the key it uses can later be shown to be the one it had at genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_commitment: Option<String>,
}

/// The commitment to a ministry's dedup key that its card carries.
pub fn dedup_commitment(dedup_key: &[u8; 32]) -> String {
    let mut bytes = b"bansos-dedup-key-commitment/v1\0".to_vec();
    bytes.extend_from_slice(dedup_key);
    format!("{DEDUP_COMMITMENT_PREFIX}{}", Hash::digest(&bytes).to_hex())
}

impl MemberCard {
    /// Parses a card file, refusing anything that looks like it carries a private key (the
    /// `PRIVATE+KEY` form of a key file, or a bare 64-hex-digit dedup key where the commitment
    /// belongs) and every field that is not well formed.
    pub fn parse(bytes: &[u8]) -> Result<MemberCard, String> {
        if bytes.len() > CARD_BYTES_MAX {
            return Err(format!(
                "larger than {CARD_BYTES_MAX} bytes: not a member card"
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
        if text.contains("PRIVATE+KEY") {
            return Err(
                "it contains a private key (PRIVATE+KEY+...): a card is public; draw a new key, \
                 the one pasted here is no longer secret"
                    .into(),
            );
        }
        let card: MemberCard =
            serde_json::from_str(text).map_err(|e| format!("not a member card: {e}"))?;
        let problems = card.problems();
        if problems.is_empty() {
            Ok(card)
        } else {
            Err(problems.join("; "))
        }
    }

    /// Every problem of the card, each a sentence.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.format != CARD_FORMAT {
            p.push(format!(
                "format is {:?}, expected {CARD_FORMAT:?}",
                self.format
            ));
        }
        if !is_member_name_valid(&self.name) {
            p.push(format!("name {:?} is not a valid member name", self.name));
        }
        if crate::parse_key(&self.public_key).is_none() {
            p.push("public_key must be 64 hex digits of a valid Ed25519 public key".into());
        }
        if self.display_name.is_empty() {
            p.push("display_name is empty".into());
        }
        match (&self.dedup_commitment, self.role) {
            (None, Role::Ministry) => {
                p.push("a ministry's card carries the commitment to its dedup key".into())
            }
            (Some(_), r) if r != Role::Ministry => {
                p.push("only a ministry has a dedup key commitment".into())
            }
            (Some(c), _) => {
                let hex = c.strip_prefix(DEDUP_COMMITMENT_PREFIX);
                if hex.is_none_or(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
                    p.push(format!(
                        "dedup_commitment must be {DEDUP_COMMITMENT_PREFIX} and 64 hex digits; \
                         a bare key here would be the secret itself"
                    ));
                }
            }
            (None, _) => {}
        }
        p
    }

    /// The member a governance vote adds (docs/OPERATIONS.md, "Joining"), with `voting_power`.
    pub fn new_member(&self, voting_power: u64) -> bansos_verifier::governance::NewMember {
        let key = data_encoding::HEXLOWER_PERMISSIVE
            .decode(self.public_key.as_bytes())
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .unwrap_or([0; 32]);
        bansos_verifier::governance::NewMember {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            public_key: key,
            p2p_address: crate::config::p2p_multiaddr(&self.host, self.p2p_port),
            voting_power,
        }
    }

    /// The member as `network.toml` would describe it, with `voting_power`.
    pub fn member_config(&self, voting_power: u64) -> MemberConfig {
        MemberConfig {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            voting_power,
            host: self.host.clone(),
            p2p_port: self.p2p_port,
        }
    }
}

/// The text a member signs (a C2SP signed note, with its member key) to approve the genesis of
/// network `id`.
pub fn approval_text(id: &NetworkId) -> String {
    format!(
        "bansos-genesis-approval/v1\n{}\n",
        data_encoding::HEXLOWER.encode(&id.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> MemberCard {
        MemberCard {
            format: CARD_FORMAT.into(),
            name: "kemensos".into(),
            display_name: "Kementerian Sosial".into(),
            role: Role::Ministry,
            public_key: data_encoding::HEXLOWER.encode(
                ed25519_dalek::SigningKey::from_bytes(&[1; 32])
                    .verifying_key()
                    .as_bytes(),
            ),
            host: "10.0.0.5".into(),
            p2p_port: 27000,
            dedup_commitment: Some(dedup_commitment(&[9; 32])),
        }
    }

    #[test]
    fn a_card_round_trips_and_a_private_key_in_it_is_refused() {
        let c = card();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(MemberCard::parse(json.as_bytes()).unwrap(), c);

        let with_key = json.replace("Kementerian Sosial", "PRIVATE+KEY+kemensos+abcd");
        assert!(
            MemberCard::parse(with_key.as_bytes())
                .unwrap_err()
                .contains("private key")
        );

        let mut bare = c.clone();
        bare.dedup_commitment = Some(data_encoding::HEXLOWER.encode(&[9; 32]));
        let e = MemberCard::parse(serde_json::to_string(&bare).unwrap().as_bytes()).unwrap_err();
        assert!(e.contains("bare key"), "{e}");

        let mut bad = c.clone();
        bad.public_key = "00".repeat(31);
        bad.name = "../x".into();
        let e = MemberCard::parse(serde_json::to_string(&bad).unwrap().as_bytes()).unwrap_err();
        assert!(e.contains("public_key") && e.contains("member name"), "{e}");

        let mut bank = c;
        bank.role = Role::Bank;
        let e = MemberCard::parse(serde_json::to_string(&bank).unwrap().as_bytes()).unwrap_err();
        assert!(e.contains("only a ministry"), "{e}");
    }
}
