//! Reconnects a validator whose gossip view of another one has gone stale.
//!
//! libp2p-gossipsub 0.49 (under Malachite 0.8.2) tells a peer which topics this node subscribes
//! to once, on the first connection to it. When a link breaks and comes back (a partition
//! healed, a restart) and one side opens the new connection before it has noticed that the old
//! one died, that side counts the new connection as a second one and announces nothing; the
//! other side, for which it is the first, has forgotten the peer's topics and never learns them
//! again. From then on it publishes nothing to that peer (not even with flood publishing) and
//! the validator-proof exchange is not repeated either: the two stay connected but deaf in one
//! direction for as long as the connection lives. A chaos run found it (docs/RELIABILITY.md):
//! one honest validator heard only through the Byzantine one, so when that one was isolated the
//! three honest validators, a quorum, could not decide for 13 s.
//!
//! The repair: every few seconds this validator asks the network actor for its view of its
//! peers. A persistent peer it is connected to (at the configured address) that has stayed
//! either unrecognised as a validator or out of every gossip mesh for [`STALE_FOR`] is removed
//! as a persistent peer, which closes every connection to it, and added again a moment later,
//! so that both sides start from a first connection and announce everything again.
//! [`StalePeers`] decides (pure, tested below); [`repair`] is the task.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use malachitebft_app_channel::app::engine::network::{
    Msg as NetworkActorMsg, Multiaddr, NetworkRef, PersistentPeersOp,
};

use super::ctx::BansosContext;

/// How often the peers are looked at.
const CHECK: Duration = Duration::from_secs(5);

/// How long a view must stay stale before the peer is reconnected: identification and the
/// validator proof of a new connection take well under a second.
pub const STALE_FOR: Duration = Duration::from_secs(10);

/// Least time between two reconnections of one peer.
const BACKOFF: Duration = Duration::from_secs(60);

/// Between closing a peer's connections and dialling it again, so that the new connection is a
/// first one on both sides.
const PAUSE: Duration = Duration::from_secs(1);

/// What the network actor says about one connected peer.
#[derive(Clone, Debug)]
pub struct PeerView {
    /// The peer id, as text.
    pub peer: String,
    /// The configured persistent address it is connected at, if this side dialled it.
    pub address: Option<Multiaddr>,
    /// Not recognised as a validator, or in no gossip mesh.
    pub stale: bool,
}

/// Which peers have been stale since when, and when each was last reconnected.
#[derive(Debug, Default)]
pub struct StalePeers {
    since: HashMap<String, Instant>,
    repaired: HashMap<String, Instant>,
}

impl StalePeers {
    /// Takes one look at the peers; returns the addresses to reconnect now.
    pub fn observe(&mut self, now: Instant, views: &[PeerView]) -> Vec<Multiaddr> {
        // Peers no longer connected, or healthy again, start afresh.
        self.since
            .retain(|peer, _| views.iter().any(|v| &v.peer == peer && v.stale));
        let mut out = Vec::new();
        for v in views.iter().filter(|v| v.stale) {
            let since = *self.since.entry(v.peer.clone()).or_insert(now);
            let Some(address) = &v.address else {
                continue;
            };
            let backed_off = self
                .repaired
                .get(&v.peer)
                .is_none_or(|at| now.duration_since(*at) >= BACKOFF);
            if now.duration_since(since) >= STALE_FOR && backed_off {
                self.repaired.insert(v.peer.clone(), now);
                self.since.remove(&v.peer);
                out.push(address.clone());
            }
        }
        out
    }
}

/// Watches the peers through the network actor and reconnects stale ones, until the actor
/// stops. `persistent` are the configured addresses of the other validators.
pub async fn repair(network: NetworkRef<BansosContext>, persistent: Vec<Multiaddr>) {
    let mut stale = StalePeers::default();
    let mut tick = tokio::time::interval(CHECK);
    loop {
        tick.tick().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        if network.cast(NetworkActorMsg::DumpState(tx.into())).is_err() {
            return;
        }
        let Ok(Some(dump)) = rx.await else {
            continue;
        };
        let views: Vec<PeerView> = dump
            .peers
            .iter()
            .map(|(id, info)| PeerView {
                peer: id.to_string(),
                address: persistent.iter().find(|a| **a == info.address).cloned(),
                stale: info.consensus_address.is_none() || info.topics.is_empty(),
            })
            .collect();
        for address in stale.observe(Instant::now(), &views) {
            tracing::warn!(
                %address,
                "a connected validator has been unrecognised or out of every gossip mesh for \
                 {} s: reconnecting it",
                STALE_FOR.as_secs()
            );
            for op in [
                PersistentPeersOp::Remove(address.clone()),
                PersistentPeersOp::Add(address),
            ] {
                let add = matches!(op, PersistentPeersOp::Add(_));
                if add {
                    tokio::time::sleep(PAUSE).await;
                }
                let (tx, rx) = tokio::sync::oneshot::channel();
                if network
                    .cast(NetworkActorMsg::UpdatePersistentPeers(op, tx.into()))
                    .is_err()
                {
                    return;
                }
                if let Ok(Err(e)) = rx.await {
                    tracing::warn!("reconnecting a validator: {e:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(peer: &str, dialled: bool, stale: bool) -> PeerView {
        PeerView {
            peer: peer.into(),
            address: dialled.then(|| format!("/ip4/10.0.0.{}/tcp/1", peer.len()).parse().unwrap()),
            stale,
        }
    }

    #[test]
    fn a_peer_stale_for_long_enough_is_reconnected_once_per_backoff() {
        let mut s = StalePeers::default();
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        assert!(s.observe(at(0), &[view("a", true, true)]).is_empty());
        assert!(s.observe(at(5), &[view("a", true, true)]).is_empty());
        assert_eq!(s.observe(at(10), &[view("a", true, true)]).len(), 1);
        // Still stale right after: not again before the backoff.
        assert!(s.observe(at(25), &[view("a", true, true)]).is_empty());
        assert!(s.observe(at(65), &[view("a", true, true)]).is_empty());
        assert_eq!(s.observe(at(75), &[view("a", true, true)]).len(), 1);
    }

    #[test]
    fn recovering_or_leaving_restarts_the_clock() {
        let mut s = StalePeers::default();
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        s.observe(at(0), &[view("a", true, true)]);
        s.observe(at(6), &[view("a", true, false)]);
        assert!(s.observe(at(12), &[view("a", true, true)]).is_empty());
        s.observe(at(15), &[]);
        assert!(s.observe(at(20), &[view("a", true, true)]).is_empty());
        assert_eq!(s.observe(at(30), &[view("a", true, true)]).len(), 1);
    }

    #[test]
    fn healthy_or_undialled_peers_are_left_alone() {
        let mut s = StalePeers::default();
        let t0 = Instant::now();
        for secs in [0, 10, 20, 100] {
            let now = t0 + Duration::from_secs(secs);
            // Healthy; and stale but connected only from its side (no address of ours to
            // redial: the other side repairs it).
            assert!(
                s.observe(now, &[view("a", true, false), view("bb", false, true)])
                    .is_empty()
            );
        }
    }
}
