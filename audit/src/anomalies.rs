//! Anomaly rules over the public log: patterns that the ledger rules allow but an auditor should
//! look at (docs/AUDIT.md, "Anomaly rules"). Each flag names the leaf indexes behind it, so it
//! can be checked in the log; each threshold is a named constant that a flag overrides.
//!
//! - `claim_outside_region`: a claim paid in another kabupaten/kota than its allocation's;
//!   one flag per (allocation region, claim region).
//! - `outlet_spike`: more than [`OUTLET_CLAIMS_PER_HOUR_MAX`] claims recorded by one payer at
//!   one outlet within one clock hour of `claimed_at`; one flag per (payer, outlet, hour).
//! - `outside_service_hours`: `claimed_at` outside [`SERVICE_OPENS_HOUR`]:00 to
//!   [`SERVICE_CLOSES_HOUR`]:00 local time (WIB, WITA or WIT by the province of the claim's
//!   region, [`zone_of_region`]); one flag per (payer, outlet, region).
//! - `partial_payment`: an open allocation (not returned or revoked) with at least one claim
//!   and less claimed than allocated; one flag per (program, period, region, payer).
//! - `region_claimed_in_first_hour`: a (program, period, region) with at least
//!   [`FIRST_HOUR_ALLOCATIONS_MIN`] allocations of which at least
//!   [`FIRST_HOUR_SHARE_PERCENT`] % were claimed within [`FIRST_HOUR_WINDOW_SECS`] of the
//!   group's first `claimed_at` (a whole region paid out at once looks like a desk, not people).

use std::collections::{BTreeMap, HashMap};

use bansos_verifier::entry::{AllocationId, Claim};
use bansos_verifier::time::Utc;
use serde::Serialize;
use serde_json::json;

use crate::aggregates::{AllocState, ProgramPeriods, region_name};

/// Default of `--outlet-claims-per-hour-max`: more claims than this by one payer's outlet in one
/// clock hour is a spike (a teller serves about one family a minute).
pub const OUTLET_CLAIMS_PER_HOUR_MAX: u64 = 60;
/// Default of `--service-opens-hour`: local hour from which claims are expected.
pub const SERVICE_OPENS_HOUR: u8 = 7;
/// Default of `--service-closes-hour`: local hour from which claims are no longer expected
/// (17 means a claim at 16:59:59 is inside, one at 17:00:00 outside).
pub const SERVICE_CLOSES_HOUR: u8 = 17;
/// Default of `--first-hour-allocations-min`: smaller groups are not judged (a village of five
/// families may well collect together).
pub const FIRST_HOUR_ALLOCATIONS_MIN: u64 = 20;
/// Default of `--first-hour-share-percent`.
pub const FIRST_HOUR_SHARE_PERCENT: u64 = 90;
/// The window after a region's first claim in `region_claimed_in_first_hour`.
pub const FIRST_HOUR_WINDOW_SECS: u64 = 3_600;
/// Most leaf indexes listed in one anomaly (the detail gives the full count), so a systematic
/// pattern over millions of claims does not make `aggregates.json` unreadable.
pub const ANOMALY_ENTRIES_MAX: usize = 10_000;

const HOUR_SECS: u64 = 3_600;
const DAY_SECS: u64 = 86_400;

/// The anomaly thresholds, each a flag of `aggregates`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// `outlet_spike`: flag an outlet with more claims than this in one hour.
    #[arg(long, default_value_t = OUTLET_CLAIMS_PER_HOUR_MAX)]
    pub outlet_claims_per_hour_max: u64,
    /// `outside_service_hours`: local hour (0-23) when service opens.
    #[arg(long, default_value_t = SERVICE_OPENS_HOUR, value_parser = clap::value_parser!(u8).range(0..=23))]
    pub service_opens_hour: u8,
    /// `outside_service_hours`: local hour (1-24) when service closes.
    #[arg(long, default_value_t = SERVICE_CLOSES_HOUR, value_parser = clap::value_parser!(u8).range(1..=24))]
    pub service_closes_hour: u8,
    /// `region_claimed_in_first_hour`: smallest group (program, period, region) judged.
    #[arg(long, default_value_t = FIRST_HOUR_ALLOCATIONS_MIN)]
    pub first_hour_allocations_min: u64,
    /// `region_claimed_in_first_hour`: share of the group's allocations (percent) claimed in
    /// the first hour that raises the flag.
    #[arg(long, default_value_t = FIRST_HOUR_SHARE_PERCENT, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub first_hour_share_percent: u64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            outlet_claims_per_hour_max: OUTLET_CLAIMS_PER_HOUR_MAX,
            service_opens_hour: SERVICE_OPENS_HOUR,
            service_closes_hour: SERVICE_CLOSES_HOUR,
            first_hour_allocations_min: FIRST_HOUR_ALLOCATIONS_MIN,
            first_hour_share_percent: FIRST_HOUR_SHARE_PERCENT,
        }
    }
}

/// One anomaly as written to `aggregates.json` and `anomalies.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    /// The rule's name.
    pub rule: &'static str,
    /// Leaf indexes behind it, ascending (at most [`ANOMALY_ENTRIES_MAX`]).
    pub entries: Vec<u64>,
    /// A sentence for people.
    pub detail: String,
    /// What the flag is about (its grouping key), for filtering and charts.
    pub key: serde_json::Value,
}

/// Indonesia's three time zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// Waktu Indonesia Barat, UTC+7.
    Wib,
    /// Waktu Indonesia Tengah, UTC+8.
    Wita,
    /// Waktu Indonesia Timur, UTC+9.
    Wit,
}

impl Zone {
    /// The zone's abbreviation.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Wib => "WIB",
            Zone::Wita => "WITA",
            Zone::Wit => "WIT",
        }
    }

    /// Seconds ahead of UTC.
    pub fn utc_offset_secs(self) -> u64 {
        match self {
            Zone::Wib => 7 * HOUR_SECS,
            Zone::Wita => 8 * HOUR_SECS,
            Zone::Wit => 9 * HOUR_SECS,
        }
    }
}

/// The time zone of a kabupaten/kota, by its province (the first two digits; Kemendagri 2025
/// codes). Every kabupaten/kota of a province shares its zone.
///
/// | zone | provinces |
/// |---|---|
/// | WIB (UTC+7) | 11–19 (Sumatra, Bangka Belitung), 21 Kepulauan Riau, 31–36 (Java), 61 Kalimantan Barat, 62 Kalimantan Tengah |
/// | WITA (UTC+8) | 51 Bali, 52 NTB, 53 NTT, 63 Kalimantan Selatan, 64 Kalimantan Timur, 65 Kalimantan Utara, 71–76 (Sulawesi) |
/// | WIT (UTC+9) | 81 Maluku, 82 Maluku Utara, 91–96 (the six Papua provinces; 97–99 reserved for new ones) |
///
/// A province code that is none of these (no such province today) is read as WIB.
pub fn zone_of_region(region: u16) -> Zone {
    match region / 100 {
        51..=53 | 63..=65 | 71..=76 => Zone::Wita,
        81 | 82 | 91..=99 => Zone::Wit,
        _ => Zone::Wib,
    }
}

/// `claimed_at` as local `YYYY-MM-DD HH:MM ZONE`, for details.
fn local_time(at: u64, zone: Zone) -> String {
    let t = Utc::from_unix(at.saturating_add(zone.utc_offset_secs()));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        zone.name()
    )
}

fn utc_time(at: u64) -> String {
    let t = Utc::from_unix(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// A count and the leaf indexes behind it (the first [`ANOMALY_ENTRIES_MAX`]).
#[derive(Default, Debug)]
struct Group {
    count: u64,
    entries: Vec<u64>,
}

impl Group {
    fn add(&mut self, leaves: &[u64]) {
        self.count += 1;
        for &l in leaves {
            if self.entries.len() < ANOMALY_ENTRIES_MAX {
                self.entries.push(l);
            }
        }
    }

    fn into_entries(mut self) -> Vec<u64> {
        self.entries.sort_unstable();
        self.entries.dedup();
        self.entries
    }

    fn truncated(&self) -> &'static str {
        if self.entries.len() >= ANOMALY_ENTRIES_MAX {
            " (only the first leaf indexes are listed)"
        } else {
            ""
        }
    }
}

/// Follows the claims in log order and, at the end, the allocations, to find the anomalies.
#[derive(Debug)]
pub struct Tracker {
    thresholds: Thresholds,
    /// (allocation region, claim region) → claims and their allocations.
    outside_region: BTreeMap<(u16, u16), Group>,
    /// (payer, outlet, hour start) → claims.
    outlet_hours: HashMap<(u16, [u8; 16], u64), Group>,
    /// (payer, outlet, claim region) → claims outside service hours.
    off_hours: BTreeMap<(u16, [u8; 16], u16), Group>,
}

impl Tracker {
    /// A tracker with these thresholds.
    pub fn new(thresholds: Thresholds) -> Tracker {
        Tracker {
            thresholds,
            outside_region: BTreeMap::new(),
            outlet_hours: HashMap::new(),
            off_hours: BTreeMap::new(),
        }
    }

    /// A claim at leaf `leaf`, recorded by member `payer`, of the allocation `alloc`.
    pub fn on_claim(&mut self, leaf: u64, payer: u16, claim: &Claim, alloc: &AllocState) {
        let region = claim.region.get();
        if region != alloc.region {
            self.outside_region
                .entry((alloc.region, region))
                .or_default()
                .add(&[alloc.leaf, leaf]);
        }
        let hour_start = claim.claimed_at / HOUR_SECS * HOUR_SECS;
        self.outlet_hours
            .entry((payer, claim.outlet, hour_start))
            .or_default()
            .add(&[leaf]);
        let zone = zone_of_region(region);
        let second_of_day = claim.claimed_at.saturating_add(zone.utc_offset_secs()) % DAY_SECS;
        let opens = u64::from(self.thresholds.service_opens_hour) * HOUR_SECS;
        let closes = u64::from(self.thresholds.service_closes_hour) * HOUR_SECS;
        if second_of_day < opens || second_of_day >= closes {
            self.off_hours
                .entry((payer, claim.outlet, region))
                .or_default()
                .add(&[leaf]);
        }
    }

    /// Every anomaly, sorted by rule, then by first leaf index.
    pub fn finish(
        self,
        allocations: &HashMap<AllocationId, AllocState>,
        program_periods: &ProgramPeriods,
    ) -> Vec<Anomaly> {
        let t = &self.thresholds;
        let mut out = Vec::new();

        for ((from, to), g) in self.outside_region {
            out.push(Anomaly {
                rule: "claim_outside_region",
                detail: format!(
                    "{} claims of allocations in {from} {} were paid in {to} {}{}",
                    g.count,
                    region_name(from),
                    region_name(to),
                    g.truncated()
                ),
                key: json!({"region": from, "claim_region": to}),
                entries: g.into_entries(),
            });
        }

        for ((payer, outlet, hour_start), g) in self.outlet_hours {
            if g.count <= t.outlet_claims_per_hour_max {
                continue;
            }
            out.push(Anomaly {
                rule: "outlet_spike",
                detail: format!(
                    "outlet {} of payer {payer} recorded {} claims in the hour from {} (more than {}){}",
                    hex(&outlet),
                    g.count,
                    utc_time(hour_start),
                    t.outlet_claims_per_hour_max,
                    g.truncated()
                ),
                key: json!({"payer": payer, "outlet": hex(&outlet), "hour_start": hour_start}),
                entries: g.into_entries(),
            });
        }

        for ((payer, outlet, region), g) in self.off_hours {
            let zone = zone_of_region(region);
            out.push(Anomaly {
                rule: "outside_service_hours",
                detail: format!(
                    "outlet {} of payer {payer} in {region} {} recorded {} claims outside {:02}:00-{:02}:00 {}{}",
                    hex(&outlet),
                    region_name(region),
                    g.count,
                    t.service_opens_hour,
                    t.service_closes_hour,
                    zone.name(),
                    g.truncated()
                ),
                key: json!({"payer": payer, "outlet": hex(&outlet), "region": region, "zone": zone.name()}),
                entries: g.into_entries(),
            });
        }

        // partial_payment, grouped by (program, period, region, payer).
        #[derive(Default)]
        struct Partial {
            group: Group,
            allocated: u64,
            claimed: u64,
        }
        let mut partial: BTreeMap<(u32, u16, u16), Partial> = BTreeMap::new();
        for a in allocations.values() {
            if a.closed.is_none() && !a.claims.is_empty() && a.claimed < a.amount {
                let p = partial
                    .entry((a.program_period, a.region, a.payer))
                    .or_default();
                let mut leaves = Vec::with_capacity(1 + a.claims.len());
                leaves.push(a.leaf);
                leaves.extend_from_slice(&a.claims);
                p.group.add(&leaves);
                p.allocated = p.allocated.saturating_add(a.amount);
                p.claimed = p.claimed.saturating_add(a.claimed);
            }
        }
        for ((pp, region, payer), p) in partial {
            let (program, period) = program_periods.get(pp);
            out.push(Anomaly {
                rule: "partial_payment",
                detail: format!(
                    "{} open allocations of {program} {period} in {region} {} paid by {payer} were paid in part: {} of {} rupiah{}",
                    p.group.count,
                    region_name(region),
                    p.claimed,
                    p.allocated,
                    p.group.truncated()
                ),
                key: json!({"program": program, "period": period, "region": region, "payer": payer}),
                entries: p.group.into_entries(),
            });
        }

        // region_claimed_in_first_hour: the first claim of each (program, period, region),
        // then how many of its allocations had a claim within the window after it.
        let mut groups: HashMap<(u32, u16), (u64, Option<u64>)> = HashMap::new();
        for a in allocations.values() {
            let g = groups.entry((a.program_period, a.region)).or_default();
            g.0 += 1;
            if let Some((at, _)) = a.first_claim {
                g.1 = Some(g.1.map_or(at, |first| first.min(at)));
            }
        }
        groups.retain(|_, (n, first)| *n >= t.first_hour_allocations_min && first.is_some());
        let mut early: HashMap<(u32, u16), Group> = HashMap::new();
        for a in allocations.values() {
            let key = (a.program_period, a.region);
            if let (Some((_, Some(first))), Some((at, leaf))) = (groups.get(&key), a.first_claim)
                && at <= first.saturating_add(FIRST_HOUR_WINDOW_SECS)
            {
                early.entry(key).or_default().add(&[leaf]);
            }
        }
        let mut early: Vec<_> = early.into_iter().collect();
        early.sort_unstable_by_key(|(k, _)| *k);
        for ((pp, region), g) in early {
            let (n, first) = groups[&(pp, region)];
            let first = first.expect("kept only groups with a claim");
            if g.count * 100 < t.first_hour_share_percent * n {
                continue;
            }
            let (program, period) = program_periods.get(pp);
            out.push(Anomaly {
                rule: "region_claimed_in_first_hour",
                detail: format!(
                    "{} of {n} allocations of {program} {period} in {region} {} ({}%) were claimed within one hour of the first claim at {}{}",
                    g.count,
                    region_name(region),
                    g.count * 100 / n,
                    local_time(first, zone_of_region(region)),
                    g.truncated()
                ),
                key: json!({"program": program, "period": period, "region": region}),
                entries: g.into_entries(),
            });
        }

        out.sort_by(|a, b| {
            (a.rule, a.entries.first(), a.key.to_string()).cmp(&(
                b.rule,
                b.entries.first(),
                b.key.to_string(),
            ))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_map_to_their_time_zone() {
        for (region, zone) in [
            (1101, Zone::Wib),
            (1971, Zone::Wib),
            (2171, Zone::Wib),
            (3171, Zone::Wib),
            (3674, Zone::Wib),
            (6171, Zone::Wib),
            (6271, Zone::Wib),
            (5171, Zone::Wita),
            (5271, Zone::Wita),
            (5371, Zone::Wita),
            (6371, Zone::Wita),
            (6472, Zone::Wita),
            (6571, Zone::Wita),
            (7171, Zone::Wita),
            (7371, Zone::Wita),
            (7601, Zone::Wita),
            (8171, Zone::Wit),
            (8271, Zone::Wit),
            (9171, Zone::Wit),
            (9471, Zone::Wit),
            (9601, Zone::Wit),
        ] {
            assert_eq!(zone_of_region(region), zone, "{region}");
        }
        // Every province of the region list has a zone that is not a fallback guess.
        for line in include_str!("../../verifier/data/kabupaten_kota.csv")
            .lines()
            .skip(1)
        {
            let code: u16 = line[..4].parse().unwrap();
            let province = code / 100;
            let listed = matches!(province, 11..=19 | 21 | 31..=36 | 61 | 62)
                || matches!(province, 51..=53 | 63..=65 | 71..=76)
                || matches!(province, 81 | 82 | 91..=96);
            assert!(listed, "province {province} is not in the zone table");
        }
    }

    #[test]
    fn local_times_are_written_in_the_zone() {
        // 2026-11-02T00:30:00Z
        let at = 1_793_579_400;
        assert_eq!(local_time(at, Zone::Wib), "2026-11-02 07:30 WIB");
        assert_eq!(local_time(at, Zone::Wit), "2026-11-02 09:30 WIT");
        assert_eq!(utc_time(at), "2026-11-02 00:30 UTC");
    }
}
