//! `bansos-verify receipt`: a citizen checks their own allocation (docs/VERIFY.md). This file
//! gathers the evidence — from nodes, fetching whole tiles so that no server learns which entry
//! is asked about, or from a saved receipt bundle — and prints the verdict of
//! `bansos_verifier::citizen::check` in Bahasa Indonesia or English. The NIK is only ever
//! passed to that check: it is not sent, logged or written.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use bansos_verifier::citizen::{Evidence, Outcome as Verdict, Proven, event_concerns};
use bansos_verifier::commitment::Nik;
use bansos_verifier::governance::{KEY_HISTORY_BYTES_MAX, KeyHistoryFile};
use bansos_verifier::hash::{Hash, LeafIndex, leaf_hash};
use bansos_verifier::merkle::{self, verify_inclusion};
use bansos_verifier::policy::TrustPolicy;
use bansos_verifier::receipt::Receipt;
use bansos_verifier::tile::{self, TILE_WIDTH, TileKind, VerifiedTiles};
use bansos_verifier::time::{MONTHS_EN, MONTHS_ID, Utc};
use base64::Engine as _;

use crate::audit::{self, Fetch};
use crate::failure::{Classify as _, Outcome, invalid, unchecked};

/// Largest checkpoint accepted from a node.
const CHECKPOINT_BYTES_MAX: u64 = 64 * 1024;
/// Largest `/v1/allocation-events` answer read (4,096 events with proofs fit in a few MiB).
const EVENTS_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Largest policy, bundle or QR image file read.
const FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Western Indonesia Time is UTC+7: dates are shown as the recipient's letter shows them.
const WIB_OFFSET_SECS: u64 = 7 * 3600;

/// Texts shared with the browser page.
const MESSAGES: &str = include_str!("../../data/messages.json");
/// Kemendagri kabupaten/kota codes and names.
const REGIONS: &str = include_str!("../../data/kabupaten_kota.csv");

/// Reads a file of at most [`FILE_BYTES_MAX`] bytes.
pub fn read_file(path: &Path, what: &str) -> Outcome<Vec<u8>> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).unchecked(format!("{what} {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .unchecked(format!("{what} {}", path.display()))?;
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return Err(unchecked(format!(
            "{what} {} is larger than {FILE_BYTES_MAX} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// `policy.json` beside the executable, where a distribution for one network ships it.
pub fn shipped_policy() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("policy.json");
    path.is_file().then_some(path)
}

/// The receipt from its typed code or a PNG of its QR code.
pub fn receipt(code: Option<&str>, qr: Option<&Path>) -> Outcome<Receipt> {
    let text = match (code, qr) {
        (Some(code), None) => code.to_owned(),
        (None, Some(path)) => {
            let bytes = read_file(path, "QR image")?;
            bansos_verifier::qr_image::decode_png(&bytes)
                .unchecked(format!("QR image {}", path.display()))?
        }
        _ => {
            return Err(unchecked(
                "give the receipt code, or --qr with a PNG image of the letter's QR code",
            ));
        }
    };
    Receipt::parse(&text).unchecked("the receipt code")
}

/// The NIK from `--nik`, or asked for on the terminal. It is never echoed back.
pub fn nik(given: Option<&str>) -> Outcome<Nik> {
    let typed = match given {
        Some(n) => n.to_owned(),
        None => {
            eprint!("NIK (16 angka / 16 digits): ");
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .unchecked("reading the NIK")?;
            line
        }
    };
    // The NIK itself is never part of an error message.
    Nik::parse(&typed).ok_or_else(|| unchecked("the NIK must be exactly 16 digits"))
}

/// Gathers the evidence for `receipt` from `nodes` (docs/VERIFY.md, "Online").
pub fn gather(
    nodes: &[(String, Box<dyn Fetch>)],
    policy: &TrustPolicy,
    receipt: &Receipt,
) -> Outcome<Evidence> {
    // 1. The first checkpoint that verifies; if none does, the first one received, so that
    //    the verdict says why.
    let mut chosen = None;
    let mut first_bad = None;
    for (url, node) in nodes {
        let note = match node.get("checkpoint", CHECKPOINT_BYTES_MAX) {
            Ok(Some(note)) => note,
            Ok(None) => {
                eprintln!("note: {url} has no checkpoint (HTTP 404)");
                continue;
            }
            Err(e) => {
                eprintln!("note: {url}: {e}");
                continue;
            }
        };
        // The validators may have changed since genesis: follow the node's key history.
        let history = key_history(url, node.as_ref());
        let mut followed = policy.clone();
        if let Some(h) = &history
            && let Err(e) = followed.follow_file(h)
        {
            eprintln!("note: the key history of {url} does not follow from the trust policy: {e}");
            first_bad.get_or_insert((note, history));
            continue;
        }
        match followed
            .history()
            .verify_checkpoint(&note, Some(&policy.file.origin), false)
        {
            Ok(cp) => {
                chosen = Some((url, node, note, cp, history));
                break;
            }
            Err(e) => {
                eprintln!("note: the checkpoint of {url} does not verify: {e}");
                first_bad.get_or_insert((note, history));
            }
        }
    }
    let Some((url, node, note, cp, key_history)) = chosen else {
        return match first_bad {
            Some((note, key_history)) => Ok(Evidence {
                checkpoint: note,
                allocation: None,
                events: Vec::new(),
                key_history,
            }),
            None => Err(unchecked("no node answered with a checkpoint")),
        };
    };
    let (size, root) = (cp.checkpoint.size, cp.checkpoint.root);
    eprintln!(
        "checkpoint of {url}: size {size}, signed by {}",
        cp.verified.signers.join(", ")
    );
    let index = receipt.leaf_index;
    if index.0 >= size.0 {
        return Ok(Evidence {
            checkpoint: note,
            allocation: None,
            events: Vec::new(),
            key_history,
        });
    }

    // 2. The allocation's whole entry tile, and the hash tiles above it.
    let bundle = index.0 / TILE_WIDTH;
    let mut tiles = VerifiedTiles::new(size, root);
    let mut fetched = audit::check_edge(node.as_ref(), &mut tiles)?;
    fetched += audit::check_chain(node.as_ref(), &mut tiles, bundle)?;
    let bundle_ref = tile::tile_at_size(TileKind::Entries, bundle, size).expect("index < size");
    let bytes = audit::fetch(node.as_ref(), &bundle_ref)?;
    let entries = tiles.check_bundle(&bundle_ref, &bytes).map_err(invalid)?;
    let leaf = entries[(index.0 % TILE_WIDTH) as usize].to_vec();
    let proof = merkle::inclusion_proof(&tiles, index, size)
        .map_err(invalid)?
        .map_err(invalid)?;
    eprintln!(
        "entry tile {bundle} ({} entries) and {fetched} hash tiles checked against the root",
        entries.len()
    );

    // 3. The events of every allocation of that tile, from every node, at this size.
    let mut events: BTreeMap<u64, Proven> = BTreeMap::new();
    let mut answered = 0;
    let path = format!("v1/allocation-events?tile={bundle}&size={}", size.0);
    for (other_url, other) in nodes {
        let body = match other.get(&path, EVENTS_BYTES_MAX) {
            Ok(Some(body)) => body,
            Ok(None) => {
                eprintln!("note: {other_url} does not serve allocation events");
                continue;
            }
            Err(e) => {
                eprintln!("note: {other_url}: {e}");
                continue;
            }
        };
        let found = parse_events(&body)
            .map_err(|e| invalid(format!("the allocation events of {other_url}: {e}")))?;
        answered += 1;
        for (event_index, leaf, proof) in found {
            if !event_concerns(&leaf, &receipt.allocation) {
                continue;
            }
            verify_inclusion(&leaf_hash(&leaf), event_index, size, &proof, &root).map_err(|e| {
                invalid(format!(
                    "{other_url} gave a false proof of entry {event_index}: {e}"
                ))
            })?;
            events.entry(event_index.0).or_insert(Proven {
                index: event_index,
                leaf,
                proof,
            });
        }
    }
    if answered == 0 {
        return Err(unchecked(
            "no node answered /v1/allocation-events at this checkpoint's size",
        ));
    }
    Ok(Evidence {
        checkpoint: note,
        allocation: Some(Proven { index, leaf, proof }),
        events: events.into_values().collect(),
        key_history,
    })
}

/// A node's key history (`/key-history`), when it has changes since genesis. A node that does
/// not serve one, or serves an unreadable one, is taken as having none: its checkpoint must then
/// verify with the genesis keys.
pub fn key_history(url: &str, node: &dyn Fetch) -> Option<KeyHistoryFile> {
    match node.get("key-history", KEY_HISTORY_BYTES_MAX as u64) {
        Ok(Some(body)) => match serde_json::from_slice::<KeyHistoryFile>(&body) {
            Ok(h) if !h.links.is_empty() => Some(h),
            Ok(_) => None,
            Err(e) => {
                eprintln!("note: {url} serves an unreadable key history: {e}");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            eprintln!("note: {url}: key history: {e}");
            None
        }
    }
}

type Event = (LeafIndex, Vec<u8>, Vec<Hash>);

fn parse_events(body: &[u8]) -> Result<Vec<Event>, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let list = v["events"].as_array().ok_or("no events list")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        let index = e["index"].as_u64().ok_or("an event without an index")?;
        let leaf = e["leaf"]
            .as_str()
            .and_then(|s| b64.decode(s).ok())
            .ok_or("an event whose leaf is not base64")?;
        let proof = e["proof"]
            .as_array()
            .ok_or("an event without a proof")?
            .iter()
            .map(|h| h.as_str().and_then(Hash::from_base64))
            .collect::<Option<Vec<_>>>()
            .ok_or("a proof hash that is not base64")?;
        out.push((LeafIndex(index), leaf, proof));
    }
    Ok(out)
}

/// The texts of one language, and region names.
pub struct Texts {
    messages: BTreeMap<String, String>,
    regions: BTreeMap<u16, String>,
    lang: String,
}

impl Texts {
    /// `lang` is `id` or `en`.
    pub fn new(lang: &str) -> Texts {
        let all: serde_json::Value =
            serde_json::from_str(MESSAGES).expect("messages.json is valid JSON");
        let messages = all[lang]
            .as_object()
            .expect("a known language")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let regions = REGIONS
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (code, name) = l.split_once(',')?;
                Some((code.parse().ok()?, name.to_owned()))
            })
            .collect();
        Texts {
            messages,
            regions,
            lang: lang.to_owned(),
        }
    }

    /// The text of `key` with `{name}` placeholders filled.
    pub fn get(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut s = self
            .messages
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned());
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// A return or revocation reason for people, or its code when no text exists.
    fn reason(&self, kind: &str, code: &str) -> String {
        self.messages
            .get(&format!("reason.{kind}.{code}"))
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }

    fn region(&self, code: u16) -> String {
        match self.regions.get(&code) {
            Some(name) => format!("{name} ({code})"),
            None => code.to_string(),
        }
    }

    fn date(&self, unix: u64) -> String {
        let t = Utc::from_unix(unix.saturating_add(WIB_OFFSET_SECS));
        let months = if self.lang == "id" {
            MONTHS_ID
        } else {
            MONTHS_EN
        };
        let sep = if self.lang == "id" { '.' } else { ':' };
        format!(
            "{} {} {} {:02}{sep}{:02} WIB",
            t.day,
            months[(t.month - 1) as usize],
            t.year,
            t.hour,
            t.minute
        )
    }
}

/// Rupiah as Indonesians write it: `Rp750.000`.
pub fn rupiah(amount: u64) -> String {
    format!("Rp{}", bansos_verifier::entry::Rupiah(amount).dotted())
}

/// The verdict as text for people.
pub fn render(
    verdict: &bansos_verifier::citizen::Verdict,
    policy: &TrustPolicy,
    t: &Texts,
    color: bool,
) -> String {
    let outcome = verdict.outcome;
    let key = match outcome {
        Verdict::NotClaimed if verdict.expired => "not_claimed_expired".to_string(),
        o => o.as_str().to_string(),
    };
    let (mark, paint) = match outcome {
        Verdict::InvalidCheckpoint | Verdict::InvalidEvidence => ("✖", "\x1b[1;31m"),
        o if o.is_warning() => ("⚠", "\x1b[1;31m"),
        Verdict::Claimed | Verdict::NotClaimed => ("✔", "\x1b[1;32m"),
        _ => ("•", "\x1b[1m"),
    };
    let headline = format!("{mark} {}", t.get(&format!("outcome.{key}"), &[]));
    let mut out = if color {
        format!("{paint}{headline}\x1b[0m\n")
    } else {
        format!("{headline}\n")
    };
    let member = |id: bansos_verifier::entry::MemberId| {
        policy
            .member_name(id)
            .map_or_else(|| format!("#{}", id.0), str::to_owned)
    };
    if let Some(a) = &verdict.allocation {
        let program = match policy.program_name(&a.program) {
            Some(name) => format!("{name} ({})", a.program),
            None => a.program.clone(),
        };
        let rows = [
            ("label.program", program),
            ("label.period", a.period.clone()),
            ("label.amount", rupiah(a.amount)),
            ("label.region", t.region(a.region)),
            ("label.payer", member(a.payer)),
            ("label.recorded_at", t.date(a.recorded_at)),
            ("label.expires_at", t.date(a.expires_at)),
        ];
        for (label, value) in rows {
            out.push_str(&format!("  {}: {value}\n", t.get(label, &[])));
        }
        for c in &verdict.claims {
            let channel = t.get(&format!("channel.{}", c.channel), &[]);
            out.push_str(&format!(
                "  {}\n",
                t.get(
                    "label.claim",
                    &[
                        ("date", t.date(c.claimed_at)),
                        ("channel", channel),
                        ("region", t.region(c.region)),
                        ("payer", member(c.payer)),
                        ("amount", rupiah(c.amount)),
                    ],
                )
            ));
        }
        if !verdict.claims.is_empty() {
            out.push_str(&format!(
                "  {}: {}\n",
                t.get("label.claimed_total", &[]),
                rupiah(verdict.claimed_total)
            ));
        }
        if let Some(c) = &verdict.closure {
            out.push_str(&format!(
                "  {}\n",
                t.get(
                    "label.closure",
                    &[
                        ("kind", t.get(&format!("label.kind.{}", c.kind), &[])),
                        ("date", t.date(c.recorded_at)),
                        ("reason", t.reason(&c.kind, &c.reason)),
                    ],
                )
            ));
        }
    }
    if let Some(e) = &verdict.error {
        out.push_str(&format!(
            "  ({})\n",
            serde_json::to_string(e).expect("serializes")
        ));
    }
    out.push_str(&t.get(&format!("advice.{key}"), &[]));
    out.push('\n');
    if outcome.is_warning() || outcome == Verdict::Claimed {
        out.push_str(&t.get("complaint", &[]));
        out.push('\n');
    }
    if let Some(cp) = &verdict.checkpoint {
        out.push_str(&t.get(
            "label.checkpoint",
            &[
                ("size", cp.size.to_string()),
                ("signers", cp.signers.len().to_string()),
                ("keys", policy.file.verifier_keys.len().to_string()),
            ],
        ));
        out.push('\n');
    }
    out.push_str(&t.get("label.nik_private", &[]));
    out.push('\n');
    out
}

/// Whether stdout takes colours.
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_and_dates_read_as_in_indonesia() {
        assert_eq!(rupiah(750_000), "Rp750.000");
        assert_eq!(rupiah(1_000), "Rp1.000");
        assert_eq!(rupiah(999), "Rp999");
        assert_eq!(rupiah(12_345_678), "Rp12.345.678");
        let id = Texts::new("id");
        // 2026-11-01T00:00:00Z is 07.00 in Jakarta.
        assert_eq!(id.date(1_793_491_200), "1 November 2026 07.00 WIB");
        assert_eq!(
            Texts::new("en").date(1_793_491_200),
            "1 November 2026 07:00 WIB"
        );
        assert_eq!(id.region(3171), "Kota Administrasi Jakarta Pusat (3171)");
    }

    #[test]
    fn both_languages_have_every_text() {
        let all: serde_json::Value = serde_json::from_str(MESSAGES).unwrap();
        let keys =
            |l: &str| -> Vec<String> { all[l].as_object().unwrap().keys().cloned().collect() };
        assert_eq!(keys("id"), keys("en"));
        for o in [
            "claimed",
            "not_claimed",
            "not_claimed_expired",
            "returned",
            "revoked",
            "not_in_log",
            "paid_less",
            "nik_mismatch",
            "not_an_allocation",
            "wrong_network",
            "invalid_checkpoint",
            "invalid_evidence",
        ] {
            for prefix in ["outcome", "advice"] {
                assert!(
                    all["id"].get(format!("{prefix}.{o}")).is_some(),
                    "{prefix}.{o}"
                );
            }
        }
    }
}
