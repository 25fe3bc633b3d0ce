//! Claims by a bank or PT Pos: from the recipient's receipt to a signed claim, checked against
//! the allocation's public record first (claimed already, revoked, returned, expired, another
//! payer, another network), submitted at once or queued by an offline outlet and synced later.

use bansos_verifier::entry::{
    AllocationId, Channel, Claim, MemberId, NetworkId, RegionCode, Rupiah, SignedTx, TxBody,
};
use bansos_verifier::receipt::{Receipt, network_tag};
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::api::{ApiError, Nodes, TxState};

/// Why a claim cannot be made; sentences for the teller.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The code does not parse.
    #[error("the receipt code is not valid: {0}")]
    Receipt(String),
    /// Another network's receipt.
    #[error("this receipt belongs to another Bansos network, not this one")]
    OtherNetwork,
    /// Not in the log.
    #[error("no committed allocation matches this receipt")]
    Unknown,
    /// Paid out already.
    #[error("this allocation was already claimed in full ({claimed} of {amount} rupiah paid)")]
    AlreadyClaimed {
        /// Paid so far.
        claimed: u64,
        /// Allocated.
        amount: u64,
    },
    /// Revoked or returned.
    #[error("this allocation was {0} and can no longer be claimed")]
    Closed(String),
    /// Past its expiry.
    #[error("this allocation expired and can no longer be claimed")]
    Expired,
    /// Another payer's allocation.
    #[error("this allocation is paid out by another member, not by you")]
    OtherPayer,
    /// More than what is left.
    #[error("only {left} rupiah are left to pay on this allocation")]
    TooMuch {
        /// What is left.
        left: u64,
    },
    /// The validators.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Where and how a payout is made.
#[derive(Debug, Clone)]
pub struct Payout {
    /// Channel.
    pub channel: Channel,
    /// Outlet pseudonym (16 bytes chosen by the payer).
    pub outlet: [u8; 16],
    /// Kabupaten/kota of the outlet (default: the allocation's).
    pub region: Option<RegionCode>,
    /// Amount (default: what is left).
    pub amount: Option<Rupiah>,
    /// When the recipient was paid, unix seconds.
    pub at: u64,
}

/// Parses a typed receipt code and checks it is for this network.
pub fn parse_receipt(code: &str, network: &NetworkId) -> Result<Receipt, ClaimError> {
    let r = Receipt::parse(code).map_err(|e| ClaimError::Receipt(e.to_string()))?;
    if r.network_tag != network_tag(network) {
        return Err(ClaimError::OtherNetwork);
    }
    Ok(r)
}

/// Checks the allocation's public record and builds the signed claim.
pub fn prepare(
    nodes: &mut Nodes,
    network: &NetworkId,
    member: MemberId,
    key: &SigningKey,
    receipt: &Receipt,
    payout: &Payout,
) -> Result<SignedTx, ClaimError> {
    let record = nodes
        .get_json(&format!("/v1/allocations/{}", receipt.allocation.to_hex()))?
        .ok_or(ClaimError::Unknown)?;
    check_record(&record, member, payout)?;
    let amount = record["allocation"]["amount"].as_u64().unwrap_or(0);
    let claimed = record["claimed"].as_u64().unwrap_or(0);
    let region = match payout.region {
        Some(r) => r,
        None => record["allocation"]["region"]
            .as_u64()
            .and_then(|r| u16::try_from(r).ok())
            .and_then(RegionCode::new)
            .ok_or(ClaimError::Unknown)?,
    };
    let claim = Claim {
        allocation: AllocationId(receipt.allocation.0),
        amount: payout.amount.unwrap_or(Rupiah(amount - claimed)),
        channel: payout.channel,
        region,
        outlet: payout.outlet,
        claim_secret: receipt.claim_secret,
        claimed_at: payout.at,
    };
    SignedTx::sign(network, member, TxBody::Claim(claim), key)
        .map_err(|e| ClaimError::Receipt(e.to_string()))
}

/// The checks a teller can make before paying: status, payer, expiry, what is left.
pub fn check_record(record: &Value, member: MemberId, payout: &Payout) -> Result<(), ClaimError> {
    let status = record["status"].as_str().unwrap_or("");
    if status != "open" {
        return Err(ClaimError::Closed(match status {
            "revoked" => "revoked by its ministry".into(),
            "returned" => "returned by its payer".into(),
            other => other.to_string(),
        }));
    }
    if record["allocation"]["payer"].as_u64() != Some(u64::from(member.0)) {
        return Err(ClaimError::OtherPayer);
    }
    let amount = record["allocation"]["amount"].as_u64().unwrap_or(0);
    let claimed = record["claimed"].as_u64().unwrap_or(0);
    if claimed >= amount {
        return Err(ClaimError::AlreadyClaimed { claimed, amount });
    }
    if record["allocation"]["expires_at"].as_u64().unwrap_or(0) <= payout.at {
        return Err(ClaimError::Expired);
    }
    if let Some(a) = payout.amount
        && a.0 > amount - claimed
    {
        return Err(ClaimError::TooMuch {
            left: amount - claimed,
        });
    }
    Ok(())
}

/// Submits a claim and waits (up to `wait`) for the validators' verdict.
pub fn submit(
    nodes: &mut Nodes,
    tx: &SignedTx,
    wait: std::time::Duration,
) -> Result<TxState, ApiError> {
    let mut state = nodes
        .submit(&[tx.encode()])?
        .pop()
        .unwrap_or(TxState::Unknown);
    let deadline = std::time::Instant::now() + wait;
    let hash = tx.hash().to_hex();
    while matches!(state, TxState::Pending | TxState::Unknown)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(300));
        state = nodes.status(&hash)?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: &str, claimed: u64) -> Value {
        serde_json::json!({
            "status": status, "claimed": claimed,
            "allocation": {"amount": 200000, "payer": 2, "expires_at": 2000, "region": 1101}
        })
    }

    fn payout(amount: Option<u64>) -> Payout {
        Payout {
            channel: Channel::BankTeller,
            outlet: [0; 16],
            region: None,
            amount: amount.map(Rupiah),
            at: 1000,
        }
    }

    #[test]
    fn a_teller_learns_why_a_claim_cannot_be_paid() {
        let me = MemberId(2);
        assert!(check_record(&record("open", 0), me, &payout(None)).is_ok());
        assert!(matches!(
            check_record(&record("open", 200000), me, &payout(None)),
            Err(ClaimError::AlreadyClaimed { .. })
        ));
        assert!(matches!(
            check_record(&record("revoked", 0), me, &payout(None)),
            Err(ClaimError::Closed(_))
        ));
        assert!(matches!(
            check_record(&record("open", 0), MemberId(3), &payout(None)),
            Err(ClaimError::OtherPayer)
        ));
        assert!(matches!(
            check_record(&record("open", 150000), me, &payout(Some(100000))),
            Err(ClaimError::TooMuch { left: 50000 })
        ));
        let mut late = payout(None);
        late.at = 3000;
        assert!(matches!(
            check_record(&record("open", 0), me, &late),
            Err(ClaimError::Expired)
        ));
    }
}
