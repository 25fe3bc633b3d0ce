//! The arithmetic of `bansos-testnet load`: the offered rate as typed on the command line, and
//! latency percentiles. Pure, so it is tested without a network.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How fast `load` offers transactions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// As fast as the network accepts them, from several concurrent submitters.
    Max,
    /// This many transactions per second (finite, positive).
    PerSec(f64),
}

/// Highest rate accepted on the command line, transactions per second.
pub const RATE_PER_SEC_MAX: f64 = 10_000_000.0;

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        match s.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 && r <= RATE_PER_SEC_MAX => Ok(Rate::PerSec(r)),
            _ => Err(format!(
                "{s:?} is not a rate: give transactions per second (a number above 0, at most \
                 {RATE_PER_SEC_MAX}) or `max`"
            )),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Max => f.write_str("max"),
            Rate::PerSec(r) => write!(f, "{r}"),
        }
    }
}

impl Rate {
    /// When batch `k` (from 0) of `batch_txs` transactions is due, counted from the start; `None`
    /// for [`Rate::Max`] (always now).
    pub fn due(&self, k: u64, batch_txs: usize) -> Option<Duration> {
        match self {
            Rate::Max => None,
            Rate::PerSec(r) => Some(Duration::from_secs_f64(k as f64 * batch_txs as f64 / r)),
        }
    }
}

/// The `p`-th percentile (0 < p <= 100) of `sorted` by the nearest-rank method: the smallest
/// value with at least p% of the values at or below it. `None` for no values.
pub fn percentile<T: Copy + Ord>(sorted: &[T], p: f64) -> Option<T> {
    assert!(p > 0.0 && p <= 100.0, "percentile out of range");
    debug_assert!(sorted.is_sorted());
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_or_explain() {
        let cases: [(&str, Option<Rate>); 10] = [
            ("max", Some(Rate::Max)),
            ("MAX", Some(Rate::Max)),
            ("1000", Some(Rate::PerSec(1000.0))),
            ("2.5", Some(Rate::PerSec(2.5))),
            (" 10 ", Some(Rate::PerSec(10.0))),
            ("0", None),
            ("-5", None),
            ("inf", None),
            ("NaN", None),
            ("fast", None),
        ];
        for (text, expected) in cases {
            let got = text.parse::<Rate>();
            match expected {
                Some(r) => assert_eq!(got, Ok(r), "{text:?}"),
                None => {
                    let e = got.expect_err(text);
                    assert!(e.contains("max"), "{e}");
                }
            }
        }
        assert_eq!(Rate::Max.to_string(), "max");
        assert_eq!(Rate::PerSec(1000.0).to_string(), "1000");
    }

    #[test]
    fn batches_are_due_at_the_rate() {
        assert_eq!(Rate::Max.due(7, 100), None);
        let r = Rate::PerSec(1000.0);
        assert_eq!(r.due(0, 100), Some(Duration::ZERO));
        assert_eq!(r.due(10, 100), Some(Duration::from_secs(1)));
        assert_eq!(
            Rate::PerSec(4.0).due(3, 2),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.5), Some(1));
        assert_eq!(percentile(&[7u32], 99.0), Some(7));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
        // Few samples: p99 is the largest, p50 the lower middle.
        let few = [10u32, 20, 30, 40];
        assert_eq!(percentile(&few, 50.0), Some(20));
        assert_eq!(percentile(&few, 99.0), Some(40));
        let odd = [1u32, 2, 3];
        assert_eq!(percentile(&odd, 50.0), Some(2));
    }
}
