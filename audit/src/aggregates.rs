//! `bansos-audit aggregates --mirror DIR --out OUT [--genesis genesis.json]`: public totals,
//! a re-check of the ledger rules and anomaly flags, recomputed from the entries of a mirror
//! alone (docs/AUDIT.md, "Aggregates").
//!
//! The mirror is trusted for nothing: every entry bundle the checkpoint's size calls for is read
//! and split with `bansos_verifier::tile`, every entry is hashed, and the RFC 6962 root of those
//! hashes must be the checkpoint's root, or nothing is written (exit 1). With `--genesis` the
//! checkpoint must also carry its origin and a quorum of the signatures of the validators of
//! its epoch: the genesis validators, or, after governance changes, those the mirror's
//! `key-history` leads to from them; and every entry's signer and role are checked against the
//! members in force when it was logged, with the votes tallied again (`governance`).
//!
//! The rules are re-checked with this module's own code, not the `ledger` crate's: an auditor
//! does not reuse the code it audits. Formats come from `bansos-verifier` (they are what the
//! log *is*); meaning (what a claim may do to an allocation) is written again here.
//!
//! **Memory.** This first version reads the bundles as a stream and folds the leaf hashes per
//! 256-entry tile (32 bytes a tile: 125 MB at 10^9 entries), but holds per-allocation state in
//! memory: about 550 bytes per allocation with one claim (its fields, claim leaves, dedup tag,
//! per-outlet-hour counts, hash-table slack; measured: 165 MB peak for 300,000 allocations and
//! their 300,000 claims), some 5.5 GB at 10^7 allocations, which is where it stops being
//! comfortable. For 10^9 allocations it would partition instead: a first pass appends each
//! allocation, claim, return and revocation (with its leaf index) to one of K spill files chosen
//! by a hash of the allocation id, and each allocation's dedup key to one of K files by a hash of
//! (program, period, tag); a second pass audits each partition alone, since every rule and
//! per-allocation anomaly joins an entry only with its own allocation, and the grouped anomalies
//! and totals merge small per-partition summaries. An on-disk sorted table (redb) keyed by
//! allocation id would do as well.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::Context as _;
use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::commitment::claim_lock;
use bansos_verifier::entry::{AllocationId, Leaf, TxBody};
use bansos_verifier::governance::{Role, Roster};
use bansos_verifier::hash::{Hash, leaf_hash};
use bansos_verifier::merkle::{self, SubtreeHashes};
use bansos_verifier::note::Note;
use bansos_verifier::tile::{
    TILE_HEIGHT, TILE_WIDTH, TileKind, full_tile_root, parse_bundle, tile_at_size,
};
use serde::Serialize;

use crate::anomalies::{self, Anomaly, Thresholds};
use crate::governance::Governance;
use crate::trust::Trust;

/// The `format` of `aggregates.json`.
pub const AGGREGATES_FORMAT: &str = "bansos-ledger/aggregates@v1";

/// Exit code when the files are written but the log breaks the ledger rules.
pub const EXIT_RULE_VIOLATIONS: u8 = 3;

/// Entries between two progress lines on stderr.
const PROGRESS_ENTRIES: u64 = 1 << 20;

/// Time-to-claim buckets: (name, upper bound in seconds, exclusive).
pub const TIME_TO_CLAIM_BUCKETS: [(&str, u64); 5] = [
    ("<1h", 3_600),
    ("1-24h", 86_400),
    ("1-7d", 7 * 86_400),
    ("7-30d", 30 * 86_400),
    (">30d", u64::MAX),
];

/// Arguments of `aggregates`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The mirror directory (DIR/checkpoint and DIR/tile/entries/…).
    #[arg(long, value_name = "DIR")]
    pub mirror: PathBuf,
    /// Where to write aggregates.json and the CSV files (created if missing).
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// The network's genesis file: check the checkpoint's quorum signatures and origin, and
    /// name the payers.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// Anomaly thresholds.
    #[command(flatten)]
    pub thresholds: Thresholds,
}

/// Runs `aggregates`: exit 0 when written, 3 when written but the log breaks the ledger
/// rules, 1 when the mirror is refused (nothing written), 2 when it could not be read.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let network = match &args.genesis {
        Some(path) => {
            let bytes =
                fs::read(path).with_context(|| format!("reading genesis {}", path.display()))?;
            Some(
                Network::from_bytes(&bytes)
                    .with_context(|| format!("reading genesis {}", path.display()))?,
            )
        }
        None => None,
    };
    let generated_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let agg = match compute(
        &args.mirror,
        network.as_ref(),
        args.thresholds.clone(),
        generated_at,
    )? {
        Ok(agg) => agg,
        Err(refusal) => {
            eprintln!("bansos-audit: FAILED: {refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    write_outputs(&args.out, &agg)?;
    println!(
        "OK size={} root={} allocations={} claims={} rule_violations={} anomalies={} written to {}",
        agg.checkpoint.size,
        agg.checkpoint.root,
        agg.totals.allocations,
        agg.totals.claims,
        agg.rule_violations.len(),
        agg.anomalies.len(),
        args.out.display()
    );
    if agg.rule_violations.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "bansos-audit: the log breaks the ledger rules {} times: see {}",
            agg.rule_violations.len(),
            args.out.join("rule_violations.csv").display()
        );
        Ok(ExitCode::from(EXIT_RULE_VIOLATIONS))
    }
}

// ---------------------------------------------------------------------------------------------
// aggregates.json

/// Counts and rupiah of one row (docs/AUDIT.md `<counts>`). Sums saturate at 2^64 − 1, which
/// only a log of absurd amounts reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Allocations made.
    pub allocations: u64,
    /// Rupiah allocated.
    pub allocated: u64,
    /// Claims recorded.
    pub claims: u64,
    /// Rupiah paid by those claims.
    pub claimed: u64,
    /// Allocations returned by their payer.
    pub returns: u64,
    /// Rupiah left unpaid when they were returned.
    pub returned: u64,
    /// Allocations revoked by their ministry.
    pub revocations: u64,
    /// Rupiah left unpaid when they were revoked.
    pub revoked: u64,
    /// allocated − claimed − returned − revoked, never below 0 (an over-claim, the only way
    /// below, is a rule violation of its own).
    pub outstanding: u64,
}

/// Column names of [`Counts`] in CSV order.
const COUNT_COLUMNS: [&str; 9] = [
    "allocations",
    "allocated",
    "claims",
    "claimed",
    "returns",
    "returned",
    "revocations",
    "revoked",
    "outstanding",
];

impl Counts {
    fn finish(&mut self) {
        self.outstanding = self
            .allocated
            .saturating_sub(self.claimed)
            .saturating_sub(self.returned)
            .saturating_sub(self.revoked);
    }

    fn fields(&self) -> Vec<String> {
        [
            self.allocations,
            self.allocated,
            self.claims,
            self.claimed,
            self.returns,
            self.returned,
            self.revocations,
            self.revoked,
            self.outstanding,
        ]
        .iter()
        .map(u64::to_string)
        .collect()
    }
}

/// The checkpoint the aggregates are of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckpointJson {
    /// Log origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root, standard base64.
    pub root: String,
}

/// A `by_program_period` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProgramPeriodRow {
    /// Program code.
    pub program: String,
    /// Period.
    pub period: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A `by_region` row: the allocation's kabupaten/kota.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionRow {
    /// Kemendagri code.
    pub region: u16,
    /// Its name ("" when not in the embedded list).
    pub region_name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A `by_channel` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelRow {
    /// Channel name.
    pub channel: String,
    /// Claims.
    pub claims: u64,
    /// Rupiah paid.
    pub claimed: u64,
}

/// A `by_payer` row: the allocation's payer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayerRow {
    /// Member number.
    pub payer: u16,
    /// Its display name from genesis ("" without `--genesis`).
    pub payer_name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A `time_to_claim` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeToClaimRow {
    /// Program code.
    pub program: String,
    /// One of [`TIME_TO_CLAIM_BUCKETS`].
    pub bucket: &'static str,
    /// Claims whose `claimed_at` is this long after their allocation's block time.
    pub claims: u64,
}

/// An entry the ledger rules should have refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleViolation {
    /// The rule broken.
    pub rule: &'static str,
    /// The leaf indexes involved, ascending (the offending entry and what it conflicts with).
    pub entries: Vec<u64>,
    /// A sentence for people.
    pub detail: String,
}

/// Everything `aggregates.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregates {
    /// [`AGGREGATES_FORMAT`].
    pub format: &'static str,
    /// The checkpoint these are of.
    pub checkpoint: CheckpointJson,
    /// Unix seconds when computed.
    pub generated_at: u64,
    /// Over the whole log.
    pub totals: Counts,
    /// Sorted by (program, period).
    pub by_program_period: Vec<ProgramPeriodRow>,
    /// Sorted by region code.
    pub by_region: Vec<RegionRow>,
    /// Sorted by channel name.
    pub by_channel: Vec<ChannelRow>,
    /// Sorted by member number.
    pub by_payer: Vec<PayerRow>,
    /// Sorted by program, then bucket from shortest to longest.
    pub time_to_claim: Vec<TimeToClaimRow>,
    /// Sorted by rule, then entries.
    pub rule_violations: Vec<RuleViolation>,
    /// Sorted by rule, then first entry.
    pub anomalies: Vec<Anomaly>,
}

// ---------------------------------------------------------------------------------------------
// Names

/// The name of a kabupaten/kota from `verifier/data/kabupaten_kota.csv`, or "".
pub fn region_name(code: u16) -> &'static str {
    static NAMES: OnceLock<HashMap<u16, String>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut r = csv::Reader::from_reader(
                include_str!("../../verifier/data/kabupaten_kota.csv").as_bytes(),
            );
            r.records()
                .map(|rec| {
                    let rec = rec.expect("the embedded region list is valid CSV");
                    (
                        rec[0].parse().expect("4-digit region codes"),
                        rec[1].to_string(),
                    )
                })
                .collect()
        })
        .get(&code)
        .map_or("", String::as_str)
}

/// (program, period) pairs, numbered in order of first appearance, so that per-allocation
/// state holds a `u32` instead of two strings.
#[derive(Debug, Default)]
pub struct ProgramPeriods {
    list: Vec<(String, String)>,
    index: HashMap<(String, String), u32>,
}

impl ProgramPeriods {
    fn intern(&mut self, program: &str, period: &str) -> u32 {
        let key = (program.to_string(), period.to_string());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = u32::try_from(self.list.len()).expect("fewer than 2^32 program periods");
        self.list.push(key.clone());
        self.index.insert(key, i);
        i
    }

    /// (program, period) of a number.
    pub fn get(&self, i: u32) -> (&str, &str) {
        let (p, q) = &self.list[i as usize];
        (p, q)
    }
}

// ---------------------------------------------------------------------------------------------
// The auditor's state

/// What the auditor keeps of one allocation.
#[derive(Clone, Debug)]
pub struct AllocState {
    /// Its leaf.
    pub leaf: u64,
    /// Its (program, period) number in [`ProgramPeriods`].
    pub program_period: u32,
    /// Its kabupaten/kota.
    pub region: u16,
    /// The member that pays it out.
    pub payer: u16,
    /// The ministry that allocated it.
    pub issuer: u16,
    /// Rupiah allocated.
    pub amount: u64,
    /// Rupiah claimed so far (saturating).
    pub claimed: u64,
    /// Block time of its leaf.
    pub block_time: u64,
    /// Block time from which it can no longer be claimed.
    pub expires_at: u64,
    /// Its claim lock.
    pub claim_lock: Hash,
    /// Leaves of its claims, in log order.
    pub claims: Vec<u64>,
    /// Earliest `claimed_at` of its claims and that claim's leaf.
    pub first_claim: Option<(u64, u64)>,
    /// How and where it was closed: (`"returned"` or `"revoked"`, leaf).
    pub closed: Option<(&'static str, u64)>,
}

/// Leaf hashes folded per full tile, plus the leaf hashes of the last, partial tile: enough to
/// answer every subtree hash the root of the whole tree needs.
#[derive(Debug, Default)]
struct TiledLeafHashes {
    tile_roots: Vec<Hash>,
    tail: Vec<Hash>,
}

impl SubtreeHashes for TiledLeafHashes {
    type Error = std::convert::Infallible;
    fn perfect(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        if height >= TILE_HEIGHT {
            return self.tile_roots[..].perfect(height - TILE_HEIGHT, index);
        }
        // A root asks below tile height only inside the last, partial tile.
        let base = self.tile_roots.len() as u64 * TILE_WIDTH;
        let start = index << height;
        assert!(start >= base, "a subtree inside a full tile was asked for");
        self.tail[..].perfect(height, (start - base) >> height)
    }
}

struct Auditor {
    program_periods: ProgramPeriods,
    allocations: HashMap<AllocationId, AllocState>,
    /// (program period, dedup tag) → leaf of the first allocation with it.
    dedup: HashMap<(u32, Hash), u64>,
    totals: Counts,
    by_program_period: Vec<Counts>,
    by_region: BTreeMap<u16, Counts>,
    by_payer: BTreeMap<u16, Counts>,
    by_channel: BTreeMap<&'static str, (u64, u64)>,
    time_to_claim: HashMap<(u32, usize), u64>,
    violations: Vec<RuleViolation>,
    tracker: anomalies::Tracker,
    /// Programs known so far (from the genesis, then from the log): issuer, period kind,
    /// amount rule and the entry that registered it (`None`: the genesis).
    programs: HashMap<String, ProgramRule>,
    /// Whether `programs` started from the genesis (without it an unknown program proves
    /// nothing: it may be one of the genesis's).
    programs_complete: bool,
}

/// What a program allows.
struct ProgramRule {
    issuer: u16,
    period_kind: bansos_verifier::entry::PeriodKind,
    amount: bansos_verifier::entry::AmountRule,
    registered_at: Option<u64>,
}

/// A violation of `rule` by `entries` (sorted, each once).
pub(crate) fn violation(
    rule: &'static str,
    mut entries: Vec<u64>,
    detail: String,
) -> RuleViolation {
    entries.sort_unstable();
    entries.dedup();
    RuleViolation {
        rule,
        entries,
        detail,
    }
}

impl Auditor {
    fn new(thresholds: Thresholds) -> Auditor {
        Auditor {
            program_periods: ProgramPeriods::default(),
            allocations: HashMap::new(),
            dedup: HashMap::new(),
            totals: Counts::default(),
            by_program_period: Vec::new(),
            by_region: BTreeMap::new(),
            by_payer: BTreeMap::new(),
            by_channel: BTreeMap::new(),
            time_to_claim: HashMap::new(),
            violations: Vec::new(),
            tracker: anomalies::Tracker::new(thresholds),
            programs: HashMap::new(),
            programs_complete: false,
        }
    }

    /// Starts from the genesis: its programs.
    fn know_genesis(&mut self, net: &Network) {
        for p in &net.genesis.programs {
            self.programs.insert(
                p.code.as_str().to_string(),
                ProgramRule {
                    issuer: p.issuer.0,
                    period_kind: p.period_kind,
                    amount: p.amount,
                    registered_at: None,
                },
            );
        }
        self.programs_complete = true;
    }

    /// The program rules an allocation must follow (the ledger's, re-checked); with the
    /// members in force (`roster`), its payer must be an active bank or PT Pos.
    fn check_allocation(
        &mut self,
        index: u64,
        signer: u16,
        block_time: u64,
        a: &bansos_verifier::entry::Allocation,
        roster: Option<&Roster>,
    ) {
        let code = a.program.as_str();
        let mut flag = |rule: &'static str, entries: Vec<u64>, detail: String| {
            self.violations.push(violation(rule, entries, detail));
        };
        match self.programs.get(code) {
            None if self.programs_complete => flag(
                "unknown_program",
                vec![index],
                format!(
                    "allocation at entry {index} is for program {code}, which neither the genesis nor the log registers"
                ),
            ),
            None => {}
            Some(p) => {
                let registered: Vec<u64> = p.registered_at.into_iter().chain([index]).collect();
                if p.issuer != signer {
                    flag(
                        "allocation_not_by_issuer",
                        registered.clone(),
                        format!(
                            "allocation at entry {index} is signed by member {signer}, but program {code} is member {}'s",
                            p.issuer
                        ),
                    );
                }
                if a.period.kind() != p.period_kind {
                    flag(
                        "period_mismatch",
                        registered.clone(),
                        format!(
                            "allocation at entry {index} has period {}, not of program {code}'s kind",
                            a.period.as_str()
                        ),
                    );
                }
                if !p.amount.allows(a.amount) {
                    flag(
                        "amount_outside_rule",
                        registered,
                        format!(
                            "allocation at entry {index} of Rp{} is outside program {code}'s amount rule",
                            a.amount.0
                        ),
                    );
                }
            }
        }
        if let Some(roster) = roster
            && !roster
                .member(a.payer)
                .is_some_and(|m| m.active && m.role == Role::Bank)
        {
            self.violations.push(violation(
                "payer_not_bank",
                vec![index],
                format!(
                    "allocation at entry {index} is to be paid by member {}, not a bank or PT Pos",
                    a.payer.0
                ),
            ));
        }
        if a.expires_at <= block_time {
            self.violations.push(violation(
                "expires_in_past",
                vec![index],
                format!(
                    "allocation at entry {index} expired at {} before its block time {block_time}",
                    a.expires_at
                ),
            ));
        }
    }

    /// Adds to the totals and the program-period, region and payer rows of an allocation.
    fn count(&mut self, pp: u32, region: u16, payer: u16, f: impl Fn(&mut Counts)) {
        f(&mut self.totals);
        f(&mut self.by_program_period[pp as usize]);
        f(self.by_region.entry(region).or_default());
        f(self.by_payer.entry(payer).or_default());
    }

    /// Entry `index`, with the members in force when it was logged if the genesis is known.
    fn on_entry(&mut self, index: u64, bytes: &[u8], roster: Option<&Roster>) {
        let leaf = match Leaf::decode(bytes) {
            Ok(leaf) => leaf,
            Err(e) => {
                self.violations.push(violation(
                    "undecodable_entry",
                    vec![index],
                    format!("entry {index} is not a valid leaf: {e}"),
                ));
                return;
            }
        };
        let signer = leaf.tx.signer.0;
        match &leaf.tx.body {
            TxBody::ProgramRegistered(p) => {
                let code = p.code.as_str().to_string();
                if let Some(earlier) = self.programs.get(&code) {
                    self.violations.push(violation(
                        "program_exists",
                        earlier.registered_at.into_iter().chain([index]).collect(),
                        format!("entry {index} registers program {code} again"),
                    ));
                } else {
                    self.programs.insert(
                        code,
                        ProgramRule {
                            issuer: signer,
                            period_kind: p.period_kind,
                            amount: p.amount,
                            registered_at: Some(index),
                        },
                    );
                }
            }
            TxBody::Allocation(a) => {
                self.check_allocation(index, signer, leaf.block_time, a, roster);
                if let Some(first) = self.allocations.get(&a.id) {
                    self.violations.push(violation(
                        "duplicate_allocation_id",
                        vec![first.leaf, index],
                        format!(
                            "allocation {} at entry {index} reuses the id of entry {}; it is not counted",
                            a.id.to_hex(),
                            first.leaf
                        ),
                    ));
                    return;
                }
                let pp = self
                    .program_periods
                    .intern(a.program.as_str(), a.period.as_str());
                if pp as usize == self.by_program_period.len() {
                    self.by_program_period.push(Counts::default());
                }
                if let Some(&first) = self.dedup.get(&(pp, a.dedup_tag)) {
                    self.violations.push(violation(
                        "duplicate_dedup_tag",
                        vec![first, index],
                        format!(
                            "allocation {} at entry {index} has the dedup tag of entry {first} in {} {}: one beneficiary allocated twice",
                            a.id.to_hex(),
                            a.program.as_str(),
                            a.period.as_str()
                        ),
                    ));
                } else {
                    self.dedup.insert((pp, a.dedup_tag), index);
                }
                let (region, payer, amount) = (a.region.get(), a.payer.0, a.amount.0);
                self.allocations.insert(
                    a.id,
                    AllocState {
                        leaf: index,
                        program_period: pp,
                        region,
                        payer,
                        issuer: signer,
                        amount,
                        claimed: 0,
                        block_time: leaf.block_time,
                        expires_at: a.expires_at,
                        claim_lock: a.claim_lock,
                        claims: Vec::new(),
                        first_claim: None,
                        closed: None,
                    },
                );
                self.count(pp, region, payer, |c| {
                    c.allocations += 1;
                    c.allocated = c.allocated.saturating_add(amount);
                });
            }
            TxBody::Claim(c) => {
                let id = c.allocation.to_hex();
                let Some(a) = self.allocations.get_mut(&c.allocation) else {
                    self.violations.push(violation(
                        "claim_without_allocation",
                        vec![index],
                        format!(
                            "claim at entry {index} names allocation {id}, which no earlier entry allocates; it is not counted"
                        ),
                    ));
                    return;
                };
                let mut found = Vec::new();
                if signer != a.payer {
                    found.push(violation(
                        "claim_by_other_payer",
                        vec![a.leaf, index],
                        format!(
                            "claim at entry {index} was recorded by member {signer}, but allocation {id} (entry {}) is paid out by member {}",
                            a.leaf, a.payer
                        ),
                    ));
                }
                if claim_lock(&c.claim_secret) != a.claim_lock {
                    found.push(violation(
                        "claim_lock_mismatch",
                        vec![a.leaf, index],
                        format!(
                            "the claim secret of the claim at entry {index} does not open the claim lock of allocation {id} (entry {})",
                            a.leaf
                        ),
                    ));
                }
                if let Some((how, at)) = a.closed {
                    found.push(violation(
                        "claim_after_close",
                        vec![a.leaf, at, index],
                        format!(
                            "claim at entry {index} pays allocation {id}, which was {how} at entry {at}"
                        ),
                    ));
                } else if leaf.block_time >= a.expires_at {
                    found.push(violation(
                        "claim_after_close",
                        vec![a.leaf, index],
                        format!(
                            "claim at entry {index} (block time {}) pays allocation {id}, which expired at {}",
                            leaf.block_time, a.expires_at
                        ),
                    ));
                }
                if u128::from(a.claimed) + u128::from(c.amount.0) > u128::from(a.amount) {
                    let mut entries = vec![a.leaf, index];
                    entries.extend_from_slice(&a.claims);
                    found.push(violation(
                        "over_claim",
                        entries,
                        format!(
                            "claim at entry {index} of {} rupiah brings allocation {id} of {} rupiah to {} rupiah paid",
                            c.amount.0,
                            a.amount,
                            u128::from(a.claimed) + u128::from(c.amount.0)
                        ),
                    ));
                }
                self.violations.extend(found);

                // Counted whatever the violations: the log says this money was paid.
                a.claimed = a.claimed.saturating_add(c.amount.0);
                a.claims.push(index);
                if a.first_claim.is_none_or(|(at, _)| c.claimed_at < at) {
                    a.first_claim = Some((c.claimed_at, index));
                }
                let waited = c.claimed_at.saturating_sub(a.block_time);
                let bucket = TIME_TO_CLAIM_BUCKETS
                    .iter()
                    .position(|&(_, below)| waited < below)
                    .unwrap_or(TIME_TO_CLAIM_BUCKETS.len() - 1);
                let (pp, region, payer, amount) = (a.program_period, a.region, a.payer, c.amount.0);
                self.tracker.on_claim(index, signer, c, a);
                *self.time_to_claim.entry((pp, bucket)).or_default() += 1;
                let ch = self.by_channel.entry(c.channel.as_str()).or_default();
                ch.0 += 1;
                ch.1 = ch.1.saturating_add(amount);
                self.count(pp, region, payer, |c| {
                    c.claims += 1;
                    c.claimed = c.claimed.saturating_add(amount);
                });
            }
            TxBody::Return(r) => self.close(index, signer, &r.allocation, "returned"),
            TxBody::Revocation(r) => self.close(index, signer, &r.allocation, "revoked"),
            // Governance votes move no aid; their signatures and tally are checked by
            // `governance`.
            TxBody::Vote(_) => {}
        }
    }

    /// A return (by the payer) or revocation (by the issuing ministry) of an open allocation
    /// that is not fully paid: counts what was left unpaid.
    fn close(&mut self, index: u64, signer: u16, id: &AllocationId, how: &'static str) {
        let hex = id.to_hex();
        let verb = if how == "returned" {
            "return"
        } else {
            "revocation"
        };
        let Some(a) = self.allocations.get_mut(id) else {
            self.violations.push(violation(
                "close_without_allocation",
                vec![index],
                format!(
                    "{verb} at entry {index} names allocation {hex}, which no earlier entry allocates"
                ),
            ));
            return;
        };
        let (who, role) = if how == "returned" {
            (a.payer, "payer")
        } else {
            (a.issuer, "allocating ministry")
        };
        let problem = if signer != who {
            Some((
                vec![a.leaf, index],
                format!("it was signed by member {signer}, not by the {role}, member {who}"),
            ))
        } else if let Some((was, at)) = a.closed {
            Some((
                vec![a.leaf, at, index],
                format!("the allocation was already {was} at entry {at}"),
            ))
        } else if a.claimed >= a.amount {
            let mut e = vec![a.leaf, index];
            e.extend_from_slice(&a.claims);
            Some((e, "the allocation is fully paid".to_string()))
        } else {
            None
        };
        if let Some((entries, why)) = problem {
            self.violations.push(violation(
                "close_not_allowed",
                entries,
                format!(
                    "{verb} at entry {index} of allocation {hex} (entry {}) is not allowed: {why}; it is not counted",
                    a.leaf
                ),
            ));
            return;
        }
        a.closed = Some((how, index));
        let unpaid = a.amount - a.claimed;
        let (pp, region, payer) = (a.program_period, a.region, a.payer);
        self.count(pp, region, payer, |c| {
            if how == "returned" {
                c.returns += 1;
                c.returned = c.returned.saturating_add(unpaid);
            } else {
                c.revocations += 1;
                c.revoked = c.revoked.saturating_add(unpaid);
            }
        });
    }

    /// The aggregates; `members` (the roster at the end of the log) names the payers.
    fn finish(
        self,
        checkpoint: &Checkpoint,
        members: Option<&Roster>,
        generated_at: u64,
    ) -> Aggregates {
        let Auditor {
            program_periods,
            allocations,
            mut totals,
            by_program_period,
            by_region,
            by_payer,
            by_channel,
            time_to_claim,
            mut violations,
            tracker,
            ..
        } = self;
        let anomalies = tracker.finish(&allocations, &program_periods);
        totals.finish();
        let mut by_pp: Vec<ProgramPeriodRow> = by_program_period
            .into_iter()
            .enumerate()
            .map(|(i, mut counts)| {
                counts.finish();
                let (program, period) = program_periods.get(i as u32);
                ProgramPeriodRow {
                    program: program.into(),
                    period: period.into(),
                    counts,
                }
            })
            .collect();
        by_pp.sort_by(|a, b| (&a.program, &a.period).cmp(&(&b.program, &b.period)));
        let by_region = by_region
            .into_iter()
            .map(|(region, mut counts)| {
                counts.finish();
                RegionRow {
                    region,
                    region_name: region_name(region).into(),
                    counts,
                }
            })
            .collect();
        let by_payer = by_payer
            .into_iter()
            .map(|(payer, mut counts)| {
                counts.finish();
                PayerRow {
                    payer,
                    payer_name: members
                        .and_then(|r| {
                            r.member(bansos_verifier::entry::MemberId(payer))
                                .map(|m| m.display_name.clone())
                        })
                        .unwrap_or_default(),
                    counts,
                }
            })
            .collect();
        let by_channel = by_channel
            .into_iter()
            .map(|(channel, (claims, claimed))| ChannelRow {
                channel: channel.into(),
                claims,
                claimed,
            })
            .collect();
        let mut ttc: BTreeMap<(&str, usize), u64> = BTreeMap::new();
        for ((pp, bucket), n) in time_to_claim {
            *ttc.entry((program_periods.get(pp).0, bucket)).or_default() += n;
        }
        let time_to_claim = ttc
            .into_iter()
            .map(|((program, bucket), claims)| TimeToClaimRow {
                program: program.into(),
                bucket: TIME_TO_CLAIM_BUCKETS[bucket].0,
                claims,
            })
            .collect();
        violations.sort_by(|a, b| (a.rule, &a.entries).cmp(&(b.rule, &b.entries)));
        Aggregates {
            format: AGGREGATES_FORMAT,
            checkpoint: CheckpointJson {
                origin: checkpoint.origin.clone(),
                size: checkpoint.size.0,
                root: checkpoint.root.to_base64(),
            },
            generated_at,
            totals,
            by_program_period: by_pp,
            by_region,
            by_channel,
            by_payer,
            time_to_claim,
            rule_violations: violations,
            anomalies,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the mirror

/// Reads and checks the mirror and computes the aggregates. The outer error is a mirror that
/// could not be read (a missing file); the inner one is a mirror refused as wrong.
pub fn compute(
    mirror: &Path,
    network: Option<&Network>,
    thresholds: Thresholds,
    generated_at: u64,
) -> anyhow::Result<Result<Aggregates, String>> {
    let path = mirror.join("checkpoint");
    let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut trust = network.map(Trust::genesis);
    if let Some(trust) = &mut trust
        && let Err(refusal) = trust.load(mirror)?
    {
        return Ok(Err(refusal));
    }
    let checkpoint = match &trust {
        Some(trust) => match trust.verify(&bytes) {
            Ok(v) => v.checkpoint,
            Err(e) => {
                let size = Note::parse(&bytes)
                    .ok()
                    .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                    .map_or(u64::MAX, |c| c.size.0);
                let roster = trust.history().roster_for(size);
                return Ok(Err(format!(
                    "{} is not a checkpoint of this genesis's log signed by a quorum of {} of its {} validators{}: {}",
                    path.display(),
                    roster.quorum_power(),
                    roster.validators().count(),
                    match roster.epoch {
                        0 => String::new(),
                        epoch => format!(" of epoch {epoch}"),
                    },
                    trust.why(&bytes, &e, ADVICE)
                )));
            }
        },
        None => match Note::parse(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|n| Checkpoint::parse_body(n.text()).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                return Ok(Err(format!(
                    "{} is not a signed checkpoint: {e}",
                    path.display()
                )));
            }
        },
    };
    let size = checkpoint.size;
    let mut auditor = Auditor::new(thresholds);
    if let Some(net) = network {
        auditor.know_genesis(net);
    }
    let mut governance = network.map(Governance::new);
    let mut hashes = TiledLeafHashes::default();
    for n in 0..size.0.div_ceil(TILE_WIDTH) {
        let tile =
            tile_at_size(TileKind::Entries, n, size).expect("every bundle below the size exists");
        let path = mirror.join(tile.path());
        let bytes = fs::read(&path)
            .with_context(|| format!("reading {} (is the mirror complete?)", path.display()))?;
        let entries = match parse_bundle(&tile, &bytes) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut leaf_hashes = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let index = n * TILE_WIDTH + i as u64;
            leaf_hashes.push(leaf_hash(entry));
            // An entry that does not decode is reported by the auditor.
            if let Some(g) = &mut governance
                && let Ok(leaf) = Leaf::decode(entry)
            {
                g.enter(index, leaf.height);
                match g.signature_and_role(index, &leaf) {
                    Some(v) => auditor.violations.push(v),
                    None => {
                        if let TxBody::Vote(vote) = &leaf.tx.body {
                            g.vote(index, &leaf, vote);
                        }
                    }
                }
            }
            auditor.on_entry(index, entry, governance.as_ref().map(Governance::roster));
            if (index + 1).is_multiple_of(PROGRESS_ENTRIES) {
                eprintln!("bansos-audit: {} of {} entries read", index + 1, size.0);
            }
        }
        if tile.is_full() {
            hashes.tile_roots.push(full_tile_root(&leaf_hashes));
        } else {
            hashes.tail = leaf_hashes;
        }
    }
    let Ok(root) = merkle::root(&hashes, size);
    if root != checkpoint.root {
        return Ok(Err(format!(
            "the {} entries of the mirror hash to the root {}, but its checkpoint says {}: an entry bundle was changed, or the checkpoint is not of this log",
            size.0,
            root.to_base64(),
            checkpoint.root.to_base64()
        )));
    }
    let members = match (governance, &trust) {
        (Some(g), Some(trust)) => {
            let (violations, roster) = g.finish(trust.history(), &bytes, size.0);
            auditor.violations.extend(violations);
            Some(roster)
        }
        _ => None,
    };
    Ok(Ok(auditor.finish(
        &checkpoint,
        members.as_ref(),
        generated_at,
    )))
}

/// What to do about a checkpoint signed by keys the followed history lacks.
const ADVICE: &str = "the validators changed after the epochs the mirror's key-history file reaches: mirror the log again with `bansos-audit mirror`, which keeps the node's key history";

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes a file whole: to a temporary name first, then renamed, so a reader never sees half.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn csv_bytes(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

fn entries_field(entries: &[u64]) -> String {
    entries
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn header<'a>(keys: &[&'a str], with_counts: bool) -> Vec<&'a str> {
    let mut h = keys.to_vec();
    if with_counts {
        h.extend_from_slice(&COUNT_COLUMNS);
    }
    h
}

/// Writes the CSV files, then `aggregates.json` (last: its presence means all are written).
pub fn write_outputs(out: &Path, agg: &Aggregates) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let with_counts = |mut keys: Vec<String>, c: &Counts| {
        keys.extend(c.fields());
        keys
    };
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "by_program_period.csv",
            csv_bytes(
                &header(&["program", "period"], true),
                agg.by_program_period
                    .iter()
                    .map(|r| with_counts(vec![r.program.clone(), r.period.clone()], &r.counts)),
            ),
        ),
        (
            "by_region.csv",
            csv_bytes(
                &header(&["region", "region_name"], true),
                agg.by_region.iter().map(|r| {
                    with_counts(vec![r.region.to_string(), r.region_name.clone()], &r.counts)
                }),
            ),
        ),
        (
            "by_channel.csv",
            csv_bytes(
                &["channel", "claims", "claimed"],
                agg.by_channel.iter().map(|r| {
                    vec![
                        r.channel.clone(),
                        r.claims.to_string(),
                        r.claimed.to_string(),
                    ]
                }),
            ),
        ),
        (
            "by_payer.csv",
            csv_bytes(
                &header(&["payer", "payer_name"], true),
                agg.by_payer.iter().map(|r| {
                    with_counts(vec![r.payer.to_string(), r.payer_name.clone()], &r.counts)
                }),
            ),
        ),
        (
            "time_to_claim.csv",
            csv_bytes(
                &["program", "bucket", "claims"],
                agg.time_to_claim.iter().map(|r| {
                    vec![
                        r.program.clone(),
                        r.bucket.to_string(),
                        r.claims.to_string(),
                    ]
                }),
            ),
        ),
        (
            "rule_violations.csv",
            csv_bytes(
                &["rule", "entries", "detail"],
                agg.rule_violations.iter().map(|v| {
                    vec![
                        v.rule.to_string(),
                        entries_field(&v.entries),
                        v.detail.clone(),
                    ]
                }),
            ),
        ),
        (
            "anomalies.csv",
            csv_bytes(
                &["rule", "key", "entries", "detail"],
                agg.anomalies.iter().map(|a| {
                    vec![
                        a.rule.to_string(),
                        a.key.to_string(),
                        entries_field(&a.entries),
                        a.detail.clone(),
                    ]
                }),
            ),
        ),
    ];
    for (name, bytes) in files {
        write_file(&out.join(name), &bytes)?;
    }
    let mut json = serde_json::to_vec_pretty(agg).expect("aggregates serialize");
    json.push(b'\n');
    write_file(&out.join("aggregates.json"), &json)
}

#[cfg(test)]
#[path = "../tests/ledger_world/mod.rs"]
pub(crate) mod ledger_world;

#[cfg(test)]
mod tests;
