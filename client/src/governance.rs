//! `bansos-client governance`: a member's side of a governance change (docs/OPERATIONS.md,
//! "Joining", "Leaving", "Rotating a key"): propose a change (the first vote), vote for a
//! pending one, and see the members in force with the changes being voted.
//!
//! Who a member is comes from the network's current roster (`/v1/governance`), not the genesis:
//! a member admitted by governance, or one whose key was rotated, votes with the key it holds
//! now. A vote names the current epoch, so a vote cast against an outdated view is refused by
//! the rules with the reason, never counted for the wrong epoch.

use std::time::Duration;

use anyhow::{Context as _, bail};
use bansos_verifier::entry::{MemberId, NetworkId, SignedTx, TxBody};
use bansos_verifier::governance::{Change, KeyRotation, Roster, RosterWitness, Vote};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::{KeyKind, SignerKey, VerifierKey};

use crate::api::{Nodes, TxState};

/// The governance state as a node serves it.
pub struct State {
    /// The members and witnesses in force.
    pub roster: Roster,
    /// The `/v1/governance` answer, for display.
    pub json: serde_json::Value,
}

/// Reads `/v1/governance` (with failover).
pub fn state(nodes: &mut Nodes) -> anyhow::Result<State> {
    let json = nodes
        .get_json("/v1/governance")?
        .context("the validators do not serve /v1/governance (an older release?)")?;
    let roster: Roster = serde_json::from_value(json["roster"].clone())
        .context("/v1/governance: the roster does not parse")?;
    Ok(State { roster, json })
}

/// This key's member in the current roster.
pub fn me(roster: &Roster, key: &SignerKey) -> anyhow::Result<MemberId> {
    let public = key.signing_key().verifying_key().to_bytes();
    let m = roster
        .members
        .iter()
        .find(|m| m.key == Some(public))
        .context("this key is not the key of any member in force (was it rotated or removed?)")?;
    if !m.is_validator() {
        bail!(
            "{} is not a validator: only validators vote on changes",
            m.name
        );
    }
    Ok(m.id)
}

/// A member by name in the roster.
pub fn member_named(roster: &Roster, name: &str) -> anyhow::Result<MemberId> {
    roster
        .members
        .iter()
        .find(|m| m.name == name && m.active)
        .map(|m| m.id)
        .with_context(|| format!("no active member named {name}"))
}

/// The rotation of `member`'s key to `new`, signed by the new key and, when given, the old.
pub fn rotation(
    network: &NetworkId,
    member: MemberId,
    new: &SignerKey,
    old: Option<&SignerKey>,
) -> Change {
    Change::RotateKey(KeyRotation::sign(
        network,
        member,
        new.signing_key(),
        old.map(SignerKey::signing_key),
    ))
}

/// A witness to add, from its cosignature verifier key.
pub fn witness(vkey: &str, url: &str) -> anyhow::Result<Change> {
    let k = VerifierKey::parse(vkey).map_err(|e| anyhow::anyhow!("--vkey: {e}"))?;
    if k.kind() != KeyKind::Cosignature {
        bail!(
            "--vkey is not a witness cosignature key (type 0x04): bansos-witness keygen prints one"
        );
    }
    Ok(Change::AddWitness(RosterWitness {
        vkey: k.to_string(),
        url: url.to_owned(),
    }))
}

/// Signs and submits this member's vote for `change` in the current epoch, then waits up to
/// `wait` for the verdict. Checks the change against the roster first, so an impossible change
/// is refused here with the rules' reason.
pub fn vote(
    nodes: &mut Nodes,
    network: &NetworkId,
    key: &SignerKey,
    change: Change,
    wait: Duration,
) -> anyhow::Result<TxState> {
    let State { roster, .. } = state(nodes)?;
    let signer = me(&roster, key)?;
    roster
        .apply(network, &change)
        .map_err(|e| anyhow::anyhow!("the change may not apply: {e}"))?;
    let body = TxBody::Vote(Vote {
        epoch: roster.epoch,
        change,
    });
    let tx = SignedTx::sign(network, signer, body, key.signing_key())
        .map_err(|e| anyhow::anyhow!("the change does not encode: {e}"))?;
    Ok(crate::claim::submit(nodes, &tx, wait)?)
}

/// The pending change with this hash (a prefix of at least 8 hex digits will do).
pub fn pending(state: &State, hash: &str) -> anyhow::Result<Change> {
    if hash.len() < 8 {
        bail!("give at least 8 hex digits of the change hash (governance status lists them)");
    }
    let found: Vec<&serde_json::Value> = state.json["pending"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| {
                    p["change_hash"]
                        .as_str()
                        .is_some_and(|h| h.starts_with(&hash.to_ascii_lowercase()))
                })
                .collect()
        })
        .unwrap_or_default();
    match found.as_slice() {
        [one] => serde_json::from_value(one["change"].clone())
            .context("the pending change does not parse"),
        [] => bail!(
            "no pending change {hash} in epoch {} (approved already, or never proposed?)",
            state.roster.epoch
        ),
        _ => bail!("{hash} names several pending changes: give more digits"),
    }
}

/// The status for people: members in force, pending changes with their votes, approved ones.
pub fn describe(state: &State) -> String {
    let r = &state.roster;
    let total = r.total_power();
    let mut out = format!(
        "epoch {} — {} validators, voting power {total}; a change needs more than {}\n",
        r.epoch,
        r.validators().count(),
        2 * total / 3
    );
    for m in &r.members {
        let what = if !m.active {
            "removed".to_string()
        } else if m.power > 0 {
            format!("validator, power {}", m.power)
        } else {
            "member".to_string()
        };
        let key = m
            .key
            .map(|k| Hash::digest(&k).to_hex()[..12].to_string())
            .unwrap_or_default();
        out += &format!(
            "  {:>3} {:<12} {:<9} {:<24} key {key}…\n",
            m.id.0,
            m.name,
            m.role.name(),
            what
        );
    }
    for w in &r.witnesses {
        out += &format!("  witness {} {}\n", w.name(), w.url);
    }
    if r.witness_quorum > 0 {
        out += &format!("  witness cosignatures required: {}\n", r.witness_quorum);
    }
    if let Some((height, version)) = r.upgrade {
        out += &format!("  upgrade to rules version {version} at height {height}\n");
    }
    let pending = state.json["pending"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if pending.is_empty() {
        out += "no change pending\n";
    }
    for p in pending {
        let voters: Vec<String> = p["voters"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|x| x["member"].as_u64())
                    .filter_map(|id| r.member(MemberId(id as u16)).map(|m| m.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let hash: String = p["change_hash"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(16)
            .collect();
        out += &format!(
            "pending {hash} {}: power {} of {total} ({})\n  {}\n",
            p["change"]["change"].as_str().unwrap_or("?"),
            p["power"],
            voters.join(", "),
            p["change"]
        );
    }
    for a in state.json["approved"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        out += &format!(
            "approved: epoch {} {} at height {} (from log size {})\n",
            a["epoch"],
            a["change"]["change"].as_str().unwrap_or("?"),
            a["approved_at_height"],
            a["from_size"]
        );
    }
    out
}
