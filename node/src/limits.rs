//! Limits on the write API, so that an outsider cannot spend a validator's CPU.
//!
//! Member ids are public, so anyone can post transactions that name a real member and carry a
//! junk signature; each costs a signature check. Three limits bound what that costs:
//!
//! - **per source** (the client's IP address): a token bucket counted in transactions, charged
//!   before any signature is checked; and each transaction whose signature fails shuts the
//!   source out for [`WriteLimitsConfig::bad_signature_penalty_ms`] more, so a source sending
//!   junk is refused without any work (1,000 junk signatures: 10 s by default). The other validators and the members' own systems are listed in
//!   `trusted_sources` and not limited (their traffic is the network's work);
//! - **per signer** (the member a valid signature names): a token bucket charged after the
//!   signature verified, so one member cannot take every validator's admission for itself;
//! - **concurrency and time**: at most [`WriteLimitsConfig::max_concurrent`] writes run at once
//!   (more are shed with 503 at once, not queued) and a write that takes longer than
//!   [`WriteLimitsConfig::timeout_s`], body included, is cut with 408 (`crate::http`).
//!
//! The buckets are `governor`'s keyed rate limiters (GCRA, lock-free). Reads are not limited
//! here: they are served from caches and redb reads and belong behind the operator's CDN.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use bansos_verifier::entry::MemberId;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

/// `[write_limits]` in node.toml; every key has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteLimitsConfig {
    /// Transactions a second one source address may submit, sustained.
    pub per_source_txs_per_s: u32,
    /// Transactions one source may submit at once (one full batch by default).
    pub per_source_burst: u32,
    /// Milliseconds a source is refused for each of its signatures that failed.
    pub bad_signature_penalty_ms: u64,
    /// Transactions a second one member may have admitted here, sustained.
    pub per_signer_txs_per_s: u32,
    /// Transactions one member may have admitted at once.
    pub per_signer_burst: u32,
    /// Writes served at once; more get 503 at once.
    pub max_concurrent: usize,
    /// Seconds a write may take, reading its body included; then 408.
    pub timeout_s: u64,
    /// Addresses not limited per source: the other validators (they forward what they
    /// admitted) and the members' own submitting systems.
    pub trusted_sources: Vec<IpAddr>,
}

impl Default for WriteLimitsConfig {
    fn default() -> Self {
        WriteLimitsConfig {
            per_source_txs_per_s: 1_000,
            per_source_burst: crate::write::BATCH_TXS_MAX as u32,
            bad_signature_penalty_ms: 10,
            per_signer_txs_per_s: 5_000,
            per_signer_burst: 2 * crate::write::BATCH_TXS_MAX as u32,
            max_concurrent: 64,
            timeout_s: 30,
            trusted_sources: Vec::new(),
        }
    }
}

impl WriteLimitsConfig {
    /// Refuses limits that would refuse everything.
    pub fn check(&self) -> anyhow::Result<()> {
        let positive = [
            ("per_source_txs_per_s", self.per_source_txs_per_s),
            ("per_source_burst", self.per_source_burst),
            ("per_signer_txs_per_s", self.per_signer_txs_per_s),
            ("per_signer_burst", self.per_signer_burst),
        ];
        for (name, v) in positive {
            anyhow::ensure!(v > 0, "[write_limits] {name} must be at least 1");
        }
        anyhow::ensure!(
            self.max_concurrent > 0 && self.timeout_s > 0,
            "[write_limits] max_concurrent and timeout_s must be at least 1"
        );
        Ok(())
    }
}

/// A refusal by a limit, with how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Whole seconds after which the same request may pass (at least 1).
    pub retry_after_s: u64,
}

/// The live limits of one validator.
pub struct WriteLimits {
    config: WriteLimitsConfig,
    trusted: HashSet<IpAddr>,
    sources: DefaultKeyedRateLimiter<IpAddr>,
    /// Sources refused until a time, for the signatures of theirs that failed.
    shut_out: Mutex<HashMap<IpAddr, Instant>>,
    signers: DefaultKeyedRateLimiter<MemberId>,
}

fn quota(per_s: u32, burst: u32) -> Quota {
    let per_s = NonZeroU32::new(per_s.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
    Quota::per_second(per_s).allow_burst(burst)
}

impl WriteLimits {
    /// Limits as configured.
    pub fn new(config: WriteLimitsConfig) -> Self {
        WriteLimits {
            trusted: config.trusted_sources.iter().copied().collect(),
            shut_out: Mutex::new(HashMap::new()),
            sources: RateLimiter::keyed(quota(
                config.per_source_txs_per_s,
                config.per_source_burst,
            )),
            signers: RateLimiter::keyed(quota(
                config.per_signer_txs_per_s,
                config.per_signer_burst,
            )),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WriteLimitsConfig {
        &self.config
    }

    fn charge<K: std::hash::Hash + Eq + Clone>(
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
        n: u32,
    ) -> Result<(), Refused> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(Refused {
                retry_after_s: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1),
            }),
            // More than the burst at once: it can never pass whole.
            Err(_) => Err(Refused {
                retry_after_s: u64::MAX,
            }),
        }
    }

    /// Whether `source` is one of the trusted sources (a validator, a member's system).
    pub fn is_trusted(&self, source: IpAddr) -> bool {
        self.trusted.contains(&source)
    }

    /// Charges `source` for `n` transactions before they are looked at.
    pub fn charge_source(&self, source: IpAddr, n: usize) -> Result<(), Refused> {
        if self.trusted.contains(&source) {
            return Ok(());
        }
        let until = self
            .shut_out
            .lock()
            .expect("limits lock")
            .get(&source)
            .copied();
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                return Err(Refused {
                    retry_after_s: (until - now).as_secs().max(1),
                });
            }
        }
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        Self::charge(&self.sources, &source, n)
    }

    /// Shuts `source` out for its `bad` signatures that failed, beyond any time still left.
    pub fn penalise_source(&self, source: IpAddr, bad: usize) {
        if bad == 0 || self.trusted.contains(&source) {
            return;
        }
        let penalty = Duration::from_millis(
            (bad as u64).saturating_mul(self.config.bad_signature_penalty_ms),
        );
        let now = Instant::now();
        let mut shut = self.shut_out.lock().expect("limits lock");
        let until = shut.entry(source).or_insert(now);
        *until = (*until).max(now) + penalty;
    }

    /// Charges `signer` for one transaction whose signature verified.
    pub fn charge_signer(&self, signer: MemberId) -> Result<(), Refused> {
        Self::charge(&self.signers, &signer, 1)
    }

    /// Forgets sources and signers whose buckets are full again (memory stays bounded by the
    /// recently active ones).
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.shut_out
            .lock()
            .expect("limits lock")
            .retain(|_, until| *until > now);
        self.sources.retain_recent();
        self.signers.retain_recent();
        self.sources.shrink_to_fit();
        self.signers.shrink_to_fit();
    }

    /// How long a write may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_s: u32, burst: u32) -> WriteLimits {
        WriteLimits::new(WriteLimitsConfig {
            per_source_txs_per_s: per_s,
            per_source_burst: burst,
            per_signer_txs_per_s: per_s,
            per_signer_burst: burst,
            bad_signature_penalty_ms: 10,
            trusted_sources: vec!["10.0.0.1".parse().unwrap()],
            ..WriteLimitsConfig::default()
        })
    }

    #[test]
    fn a_source_gets_its_burst_then_waits() {
        let l = limits(1, 100);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(l.charge_source(ip, 60).is_ok());
        assert!(l.charge_source(ip, 40).is_ok());
        let refused = l.charge_source(ip, 1).unwrap_err();
        assert!(refused.retry_after_s >= 1);
        // Another source has its own bucket; a trusted one has none.
        assert!(l.charge_source("192.0.2.8".parse().unwrap(), 100).is_ok());
        let trusted: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..100 {
            assert!(l.charge_source(trusted, 1_000).is_ok());
        }
    }

    #[test]
    fn bad_signatures_shut_the_source_out() {
        let l = limits(1_000, 1_000);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        assert!(l.charge_source(ip, 10).is_ok());
        // 300 bad signatures × 10 ms: 3 s without any request looked at.
        l.penalise_source(ip, 300);
        let refused = l.charge_source(ip, 1).unwrap_err();
        assert!((2..=3).contains(&refused.retry_after_s), "{refused:?}");
        // Another source, and a trusted one, are not shut out.
        assert!(l.charge_source("192.0.2.10".parse().unwrap(), 1).is_ok());
        let trusted: IpAddr = "10.0.0.1".parse().unwrap();
        l.penalise_source(trusted, 1_000);
        assert!(l.charge_source(trusted, 1).is_ok());
    }

    #[test]
    fn a_signer_is_limited_on_its_own() {
        let l = limits(1, 3);
        for _ in 0..3 {
            assert!(l.charge_signer(MemberId(1)).is_ok());
        }
        assert!(l.charge_signer(MemberId(1)).is_err());
        assert!(l.charge_signer(MemberId(2)).is_ok());
    }

    #[test]
    fn limits_that_refuse_everything_are_refused() {
        let bad = WriteLimitsConfig {
            per_source_burst: 0,
            ..WriteLimitsConfig::default()
        };
        assert!(bad.check().is_err());
        assert!(WriteLimitsConfig::default().check().is_ok());
    }
}
