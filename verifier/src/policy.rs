//! The citizen's trust policy (docs/VERIFY.md, "Trust policy"): which network, which checkpoint
//! origin, which validator keys and how many of them must sign, optionally which witnesses'
//! cosignatures (tlog-cosignature) and how many of them are required; plus member and program
//! names for display. Made from the genesis file and shipped with the verifier or given by path.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointError, VerifiedCheckpoint};
use crate::entry::{MemberId, NetworkId};
use crate::governance::{
    HistoryError, KeyHistory, KeyHistoryFile, Role, Roster, RosterMember, RosterWitness,
};
use crate::note::{KeyKind, NoteError, Policy, VerifierKey};

/// The `format` field of a trust policy file.
pub const POLICY_FORMAT: &str = "bansos-ledger/trust-policy@v1";
/// Largest policy file parsed.
pub const POLICY_BYTES_MAX: usize = 256 * 1024;

/// Why a trust policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON of the expected shape.
    #[error("the trust policy is not valid JSON of format {POLICY_FORMAT}: {0}")]
    Malformed(String),
    /// A key or the quorum is wrong.
    #[error("the trust policy's keys: {0}")]
    Keys(#[from] NoteError),
}

/// A member as the policy names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMember {
    /// Member number (as in transactions).
    pub id: MemberId,
    /// Short name.
    pub name: String,
    /// Name for people.
    pub display_name: String,
    /// `ministry`, `bank` or `auditor`.
    pub role: String,
}

/// A program as the policy names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyProgram {
    /// Program code.
    pub code: String,
    /// Name for people.
    pub name: String,
}

/// The file as written (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Always [`POLICY_FORMAT`].
    pub format: String,
    /// The network's name.
    pub network_name: String,
    /// The network id (SHA-256 of the genesis file).
    pub network_id: NetworkId,
    /// The checkpoint origin line.
    pub origin: String,
    /// Signatures required on a checkpoint.
    pub quorum: usize,
    /// C2SP verifier keys of the validators.
    pub verifier_keys: Vec<String>,
    /// Cosignature verifier keys (type `0x04`) of the witnesses the citizen trusts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<String>,
    /// Witness cosignatures a checkpoint needs besides the validators' quorum (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub witness_quorum: usize,
    /// Members, for display.
    #[serde(default)]
    pub members: Vec<PolicyMember>,
    /// Programs, for display.
    #[serde(default)]
    pub programs: Vec<PolicyProgram>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A parsed and checked trust policy.
#[derive(Clone, Debug)]
pub struct TrustPolicy {
    /// The file's content.
    pub file: PolicyFile,
    policy: Policy,
    witness_policy: Option<Policy>,
    history: KeyHistory,
}

impl TrustPolicy {
    /// Checks a policy file's content: the format, every key, the quorum.
    pub fn new(file: PolicyFile) -> Result<TrustPolicy, PolicyError> {
        if file.format != POLICY_FORMAT {
            return Err(PolicyError::Malformed(format!(
                "format is {:?}, expected {POLICY_FORMAT:?}",
                file.format
            )));
        }
        let keys = file
            .verifier_keys
            .iter()
            .map(|k| VerifierKey::parse(k))
            .collect::<Result<Vec<_>, _>>()?;
        let policy = Policy::new(keys, file.quorum)?;
        let witnesses = file
            .witnesses
            .iter()
            .map(|k| VerifierKey::parse(k))
            .collect::<Result<Vec<_>, _>>()?;
        if witnesses.iter().any(|k| k.kind() != KeyKind::Cosignature) {
            return Err(PolicyError::Keys(NoteError::BadKey(
                "a witness key must be a cosignature key (type 0x04)",
            )));
        }
        let witness_policy = match file.witness_quorum {
            0 => None,
            quorum => Some(Policy::new(witnesses, quorum)?),
        };
        let mut members = Vec::with_capacity(file.members.len());
        for (i, m) in file.members.iter().enumerate() {
            if m.id.0 as usize != i {
                return Err(PolicyError::Malformed(format!(
                    "member {} is listed at position {i}",
                    m.id.0
                )));
            }
            let role = Role::parse(&m.role).ok_or_else(|| {
                PolicyError::Malformed(format!("member {}: unknown role {:?}", m.name, m.role))
            })?;
            let key = policy.keys().iter().find(|k| k.name() == m.name);
            members.push(RosterMember {
                id: m.id,
                name: m.name.clone(),
                display_name: m.display_name.clone(),
                role,
                key: key.map(|k| k.public_key().to_bytes()),
                p2p_address: String::new(),
                power: u64::from(key.is_some()),
                active: true,
            });
        }
        // A verifier key that names no member (a policy written by hand, without members)
        // still validates: it joins the roster after the members, with power 1.
        for k in policy.keys() {
            if members.iter().any(|m| m.name == k.name()) {
                continue;
            }
            members.push(RosterMember {
                id: MemberId(members.len() as u16),
                name: k.name().to_owned(),
                display_name: k.name().to_owned(),
                role: Role::Auditor,
                key: Some(k.public_key().to_bytes()),
                p2p_address: String::new(),
                power: 1,
                active: true,
            });
        }
        let genesis = Roster::genesis(
            members,
            file.witnesses
                .iter()
                .map(|vkey| RosterWitness {
                    vkey: vkey.clone(),
                    url: String::new(),
                })
                .collect(),
            u8::try_from(file.witness_quorum).unwrap_or(u8::MAX),
            Some(file.quorum as u64),
        );
        Ok(TrustPolicy {
            file,
            policy,
            witness_policy,
            history: KeyHistory::new(genesis),
        })
    }

    /// Parses a policy file.
    pub fn parse(bytes: &[u8]) -> Result<TrustPolicy, PolicyError> {
        if bytes.len() > POLICY_BYTES_MAX {
            return Err(PolicyError::Malformed("the file is too large".into()));
        }
        let file: PolicyFile =
            serde_json::from_slice(bytes).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        TrustPolicy::new(file)
    }

    /// The JSON text of the file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file).expect("a policy serializes") + "\n"
    }

    /// The checkpoint signing policy.
    pub fn checkpoint_policy(&self) -> &Policy {
        &self.policy
    }

    /// The witnesses' cosignature policy, when the policy requires cosignatures.
    pub fn witness_policy(&self) -> Option<&Policy> {
        self.witness_policy.as_ref()
    }

    /// The members and witnesses of every epoch known so far: the genesis ones until
    /// [`TrustPolicy::follow`] adds the changes approved since.
    pub fn history(&self) -> &KeyHistory {
        &self.history
    }

    /// Follows a key history document (a node's `/key-history`, or a bundle's): every change
    /// in it must be approved by the validators of the epoch before. Refused with the reason
    /// otherwise, and the history known so far is kept.
    pub fn follow(&mut self, key_history: &[u8]) -> Result<(), HistoryError> {
        let id = self.file.network_id;
        let origin = self.file.origin.clone();
        self.history.follow(&id, &origin, key_history)
    }

    /// [`TrustPolicy::follow`] on a parsed document.
    pub fn follow_file(&mut self, key_history: &KeyHistoryFile) -> Result<(), HistoryError> {
        let id = self.file.network_id;
        let origin = self.file.origin.clone();
        self.history.follow_file(&id, &origin, key_history)
    }

    /// Checks a checkpoint note against this policy: its origin, and signatures and witness
    /// cosignatures of the epoch its size falls in (docs/VERIFY.md, "Key history").
    pub fn verify_checkpoint(&self, bytes: &[u8]) -> Result<VerifiedCheckpoint, CheckpointError> {
        self.history
            .verify_checkpoint(bytes, Some(&self.file.origin), true)
    }

    /// The network id.
    pub fn network_id(&self) -> &NetworkId {
        &self.file.network_id
    }

    /// A member's name for people, if the policy knows it.
    pub fn member_name(&self, id: MemberId) -> Option<&str> {
        self.file
            .members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.display_name.as_str())
    }

    /// A program's name for people, if the policy knows it.
    pub fn program_name(&self, code: &str) -> Option<&str> {
        self.file
            .programs
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_policies() {
        let key = crate::note::SignerKey::new(
            "kemensos",
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        );
        let good = format!(
            r#"{{"format":"bansos-ledger/trust-policy@v1","network_name":"n",
            "network_id":"{}","origin":"o","quorum":1,"verifier_keys":["{}"],
            "members":[{{"id":0,"name":"bri","display_name":"BRI","role":"bank"}}]}}"#,
            "ab".repeat(32),
            key.verifier_key()
        );
        let p = TrustPolicy::parse(good.as_bytes()).unwrap();
        assert_eq!(p.member_name(MemberId(0)), Some("BRI"));
        assert_eq!(p.checkpoint_policy().quorum(), 1);
        assert_eq!(
            TrustPolicy::parse(p.to_json().as_bytes()).unwrap().file,
            p.file
        );
        assert!(p.witness_policy().is_none());
        assert!(
            !p.to_json().contains("witness"),
            "no witness fields unless set"
        );
        let witness = crate::note::VerifierKey::new(
            "witness.example",
            KeyKind::Cosignature,
            ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key(),
        );
        let with_witness = good.replace(
            "\"quorum\":1,",
            &format!("\"quorum\":1,\"witnesses\":[\"{witness}\"],\"witness_quorum\":1,"),
        );
        let pw = TrustPolicy::parse(with_witness.as_bytes()).unwrap();
        assert_eq!(pw.witness_policy().unwrap().quorum(), 1);
        assert_eq!(
            TrustPolicy::parse(pw.to_json().as_bytes()).unwrap().file,
            pw.file
        );
        for bad in [
            with_witness.replace("\"witness_quorum\":1", "\"witness_quorum\":2"),
            with_witness.replace(&witness.to_string(), &key.verifier_key().to_string()),
            good.replace("@v1", "@v2"),
            good.replace("\"quorum\":1", "\"quorum\":2"),
            good.replace("\"origin\"", "\"extra\":1,\"origin\""),
            good.replace("kemensos+", "kemensos "),
            good.replace(&"ab".repeat(32), "ab"),
            "[]".to_string(),
        ] {
            assert!(TrustPolicy::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
