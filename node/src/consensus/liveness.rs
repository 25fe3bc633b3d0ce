//! This validator's precommits of earlier rounds, sent again while the height is stuck.
//!
//! Malachite 0.8.2 rebroadcasts, when a round times out, only the current round's votes and the
//! round certificate that led into it; it forgets its votes of earlier rounds when it enters a
//! new one. The certificate cannot stand in for a precommit for a value: its signatures carry
//! no vote extension, and under `VoteExtensionPolicy::Required` (every precommit for a value
//! carries this validator's checkpoint signature) every receiver drops such a precommit. So if
//! one honest precommit of round r is lost (a partition, a crash of the link) and its sender has
//! moved on to round r+1 while the two others wait in round r for it — the Byzantine validator's
//! precommits not counting — the height never decides. The simulator found it (seed 656 of the
//! Byzantine runs, docs/RELIABILITY.md).
//!
//! [`OwnPrecommits`] keeps this validator's signed precommits for a value at the current height
//! (with their extensions, as published) and, each time the engine rebroadcasts, hands back
//! those of rounds before the current one, for the shell to publish again as liveness votes.
//! The shell (`republish` below, and the simulator's harness) feeds it the engine's events.

use std::collections::BTreeMap;
use std::time::Instant;

use malachitebft_app_channel::app::consensus::{LivenessMsg, SignedConsensusMsg};
use malachitebft_app_channel::app::engine::network::{Msg as NetworkActorMsg, NetworkRef};
use malachitebft_app_channel::app::engine::util::events::Event;
use malachitebft_app_channel::app::events::RxEvent;
use malachitebft_app_channel::app::types::core::{NilOrVal, Round, SignedVote, VoteType};
use tokio::sync::broadcast::error::RecvError;

use super::ctx::{Address, BansosContext, Height};

/// Most earlier rounds' precommits kept (the latest ones).
const ROUNDS_KEPT: usize = 4;

/// Least time between two republications, milliseconds: one rebroadcast of the engine can
/// announce itself several times (its prevote, its precommit, its round certificate).
const GAP_MS: u64 = 500;

/// This validator's precommits for a value at the height it is deciding.
#[derive(Debug)]
pub struct OwnPrecommits {
    me: Address,
    height: Height,
    round: Round,
    votes: BTreeMap<Round, SignedVote<BansosContext>>,
    last_ms: Option<u64>,
}

impl OwnPrecommits {
    /// None kept yet, for validator `me`.
    pub fn new(me: Address) -> OwnPrecommits {
        OwnPrecommits {
            me,
            height: Height(0),
            round: Round::Nil,
            votes: BTreeMap::new(),
            last_ms: None,
        }
    }

    /// The engine started (height, round): precommits of lower heights are forgotten.
    pub fn started_round(&mut self, height: Height, round: Round) {
        if height != self.height {
            self.votes.clear();
            self.height = height;
        }
        self.round = round;
    }

    /// The engine published one of this validator's votes: a precommit for a value at the
    /// current height is kept.
    pub fn published(&mut self, vote: &SignedVote<BansosContext>) {
        let v = &vote.message;
        if v.validator != self.me
            || v.vote_type != VoteType::Precommit
            || matches!(v.value, NilOrVal::Nil)
            || v.extension.is_none()
        {
            return;
        }
        if v.height > self.height {
            self.votes.clear();
            self.height = v.height;
        }
        if v.height == self.height {
            self.votes.insert(v.round, vote.clone());
            while self.votes.len() > ROUNDS_KEPT {
                self.votes.pop_first();
            }
        }
    }

    /// The engine rebroadcasts (the round timed out without a decision): the kept precommits
    /// of earlier rounds of the height, to publish again, unless that was done less than
    /// [`GAP_MS`] ago.
    pub fn rebroadcast(&mut self, now_ms: u64) -> Vec<SignedVote<BansosContext>> {
        if self
            .last_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < GAP_MS)
        {
            return Vec::new();
        }
        let earlier: Vec<_> = self
            .votes
            .range(..self.round)
            .map(|(_, v)| v.clone())
            .collect();
        if !earlier.is_empty() {
            self.last_ms = Some(now_ms);
        }
        earlier
    }
}

/// The shell of [`OwnPrecommits`] in a validator: it follows the engine's events and publishes
/// the precommits handed back on the engine's network actor, as the engine publishes its own
/// rebroadcast votes (liveness messages), until the engine stops.
pub async fn republish(
    mut events: RxEvent<BansosContext>,
    network: NetworkRef<BansosContext>,
    me: Address,
) {
    let started = Instant::now();
    let mut own = OwnPrecommits::new(me);
    loop {
        match events.recv().await {
            Ok(Event::StartedRound(height, round, _, _)) => own.started_round(height, round),
            Ok(Event::Published(SignedConsensusMsg::Vote(v))) => own.published(&v),
            Ok(Event::RepublishVote(_) | Event::RebroadcastRoundCertificate(_)) => {
                for v in own.rebroadcast(started.elapsed().as_millis() as u64) {
                    tracing::info!(
                        height = v.message.height.0,
                        round = %v.message.round,
                        "the height has not decided: sending this validator's precommit of an earlier round again"
                    );
                    let msg = NetworkActorMsg::PublishLivenessMsg(LivenessMsg::Vote(v));
                    if network.cast(msg).is_err() {
                        return;
                    }
                }
            }
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use malachitebft_app_channel::app::types::core::{SignedMessage, Vote as _};
    use malachitebft_signing_ed25519::Signature;

    use super::super::ctx::{ValueId, Vote};
    use super::*;

    /// A precommit of validator `from`, for value `[b; 32]` (with an extension) or nil.
    fn vote(from: u16, height: u64, round: u32, value: Option<u8>) -> SignedVote<BansosContext> {
        let value = match value {
            Some(b) => NilOrVal::Val(ValueId([b; 32])),
            None => NilOrVal::Nil,
        };
        let has_value = matches!(value, NilOrVal::Val(_));
        let mut v = Vote::new(
            VoteType::Precommit,
            Height(height),
            Round::new(round),
            value,
            Address(from),
        );
        if has_value {
            v = v.extend(SignedMessage::new(
                Bytes::from_static(b"checkpoint"),
                Signature::from_bytes([0; 64]),
            ));
        }
        SignedMessage::new(v, Signature::from_bytes([0; 64]))
    }

    fn rounds(votes: &[SignedVote<BansosContext>]) -> Vec<u32> {
        votes
            .iter()
            .map(|v| v.message.round.as_u32().unwrap())
            .collect()
    }

    #[test]
    fn earlier_rounds_precommits_for_a_value_are_sent_again() {
        let mut own = OwnPrecommits::new(Address(1));
        own.started_round(Height(5), Round::new(0));
        own.published(&vote(1, 5, 0, Some(7)));
        // In its own round the engine rebroadcasts it itself.
        assert!(own.rebroadcast(1_000).is_empty());
        own.started_round(Height(5), Round::new(1));
        own.published(&vote(1, 5, 1, None));
        own.published(&vote(2, 5, 1, Some(7)));
        assert_eq!(rounds(&own.rebroadcast(2_000)), [0]);
        // Not twice within the gap.
        assert!(own.rebroadcast(2_100).is_empty());
        assert_eq!(rounds(&own.rebroadcast(2_600)), [0]);
        // A new height forgets them.
        own.started_round(Height(6), Round::new(0));
        own.started_round(Height(6), Round::new(3));
        assert!(own.rebroadcast(9_000).is_empty());
    }

    #[test]
    fn only_the_latest_rounds_are_kept() {
        let mut own = OwnPrecommits::new(Address(1));
        own.started_round(Height(2), Round::new(0));
        for r in 0..7 {
            own.published(&vote(1, 2, r, Some(r as u8)));
        }
        own.started_round(Height(2), Round::new(9));
        assert_eq!(rounds(&own.rebroadcast(0)), [3, 4, 5, 6]);
        // A precommit of a later height (published before its round started) starts afresh.
        own.published(&vote(1, 3, 0, Some(1)));
        own.started_round(Height(3), Round::new(2));
        assert_eq!(rounds(&own.rebroadcast(10_000)), [0]);
    }
}
