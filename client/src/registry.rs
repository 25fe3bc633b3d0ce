//! A registry export (CSV) checked row by row before anything is signed.
//!
//! Columns (a header row names them; others are ignored): `nik` (16 digits), `name`,
//! `family_card` (the 16-digit Kartu Keluarga number), `region_code` (the 10-digit Kemendagri
//! desa/kelurahan code; its first 4 digits are the public kabupaten/kota), `amount` (rupiah; empty:
//! the program's flat amount) and `channel` (who pays out: a bank member's name in genesis, e.g.
//! `bri` or `pos`). A row that fails, and every repeat of a NIK already seen in the file, is
//! rejected with one reason; nothing of it is submitted. Reasons never repeat the NIK or the name.

use std::collections::HashMap;

use bansos_verifier::entry::{AmountRule, MemberId, RegionCode, Rupiah};

use crate::regions::Regions;

/// The columns a registry export must have.
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "nik",
    "name",
    "family_card",
    "region_code",
    "amount",
    "channel",
];

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The NIK (personal data: stays in the local receipts store).
    pub nik: String,
    /// The recipient's name (personal data).
    pub name: String,
    /// Family card number (personal data).
    pub family_card: String,
    /// The desa/kelurahan code.
    pub desa: String,
    /// The public kabupaten/kota.
    pub region: RegionCode,
    /// Amount to allocate.
    pub amount: Rupiah,
    /// The paying member.
    pub payer: MemberId,
    /// What deserves a second look but does not stop the row.
    pub warnings: Vec<&'static str>,
}

/// A refused row: its line, the reason, and its fields as read (for the operator's rejects file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Line in the file.
    pub line: u64,
    /// Why, in one sentence.
    pub reason: String,
    /// The row's fields as read.
    pub fields: Vec<String>,
}

/// The outcome of checking a file.
#[derive(Debug, Default)]
pub struct Checked {
    /// Rows to allocate.
    pub valid: Vec<ValidRow>,
    /// Rows refused.
    pub rejected: Vec<Rejected>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not CSV, or unreadable.
    #[error("the registry file is not readable CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A required column is missing.
    #[error(
        "the header row lacks the column {0:?} (required: nik, name, family_card, region_code, amount, channel)"
    )]
    MissingColumn(&'static str),
}

/// Checks every row of a registry export for one program: `amount` is the program's rule and
/// `payers` maps a bank member's name to its id.
pub fn check(
    csv_text: &[u8],
    regions: &Regions,
    amount: &AmountRule,
    payers: &HashMap<String, MemberId>,
) -> Result<Checked, RegistryError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text);
    let header = reader.headers()?.clone();
    let mut col = HashMap::new();
    for name in REQUIRED_COLUMNS {
        let i = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or(RegistryError::MissingColumn(name))?;
        col.insert(name, i);
    }
    let mut out = Checked::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.rejected.push(Rejected {
                    line,
                    reason: format!("the row is not valid CSV: {e}"),
                    fields: Vec::new(),
                });
                continue;
            }
        };
        let get = |name: &str| record.get(col[name]).unwrap_or("").to_string();
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        let reject = |reason: String| Rejected {
            line,
            reason,
            fields: fields.clone(),
        };
        let nik = get("nik");
        let warnings = match regions.check_nik(&nik) {
            Ok(c) => c.warnings,
            Err(e) => {
                out.rejected.push(reject(format!("{e}")));
                continue;
            }
        };
        if let Some(first) = seen.get(&nik) {
            out.rejected.push(reject(format!(
                "the same NIK is already on line {first} of this file"
            )));
            continue;
        }
        let name = get("name");
        if name.is_empty() {
            out.rejected.push(reject("the name is empty".into()));
            continue;
        }
        let family_card = get("family_card");
        if family_card.len() != 16 || !family_card.bytes().all(|b| b.is_ascii_digit()) {
            out.rejected
                .push(reject("the family card number is not 16 digits".into()));
            continue;
        }
        let desa = get("region_code");
        if !regions.is_desa(&desa) {
            out.rejected.push(reject(
                "the region code is not a known 10-digit desa/kelurahan code".into(),
            ));
            continue;
        }
        let region = desa[..4]
            .parse::<u16>()
            .ok()
            .and_then(RegionCode::new)
            .expect("a known desa code starts with its kabupaten/kota");
        let amount_text = get("amount");
        let amount = if amount_text.is_empty() {
            match amount {
                AmountRule::Flat(a) => *a,
                AmountRule::Range { .. } => {
                    out.rejected.push(reject(
                        "the amount is empty but the program has no single amount".into(),
                    ));
                    continue;
                }
            }
        } else {
            match amount_text.parse::<u64>() {
                Ok(a) if amount.allows(Rupiah(a)) => Rupiah(a),
                Ok(_) => {
                    out.rejected
                        .push(reject("the amount is outside the program's rule".into()));
                    continue;
                }
                Err(_) => {
                    out.rejected
                        .push(reject("the amount is not a whole number of rupiah".into()));
                    continue;
                }
            }
        };
        let channel = get("channel").to_lowercase();
        let Some(payer) = payers.get(&channel) else {
            out.rejected.push(reject(format!(
                "the channel {channel:?} is not a paying member of this network"
            )));
            continue;
        };
        seen.insert(nik.clone(), line);
        out.valid.push(ValidRow {
            line,
            nik,
            name,
            family_card,
            desa,
            region,
            amount,
            payer: *payer,
            warnings,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payers() -> HashMap<String, MemberId> {
        HashMap::from([
            ("bri".to_string(), MemberId(2)),
            ("pos".to_string(), MemberId(3)),
        ])
    }

    #[test]
    fn every_bad_row_gets_one_reason_and_repeats_are_refused() {
        let csv = "nik,name,family_card,region_code,amount,channel,notes\n\
            1101011203850001,Siti,1101010101010001,1101012001,,bri,ok\n\
            1101011203850002,Budi,1101010101010002,1101012001,200000,POS,ok\n\
            1101011203850001,Siti again,1101010101010001,1101012001,,bri,repeat\n\
            9901011203850001,X,1101010101010003,1101012001,,bri,province\n\
            1101011203850003,,1101010101010003,1101012001,,bri,no name\n\
            1101011203850004,Y,123,1101012001,,bri,family card\n\
            1101011203850005,Z,1101010101010005,1101019999,,bri,desa\n\
            1101011203850006,W,1101010101010006,1101012001,150000,bri,amount\n\
            1101011203850007,V,1101010101010007,1101012001,,mandiri,channel\n";
        let r = Regions::embedded();
        let c = check(
            csv.as_bytes(),
            &r,
            &AmountRule::Flat(Rupiah(200_000)),
            &payers(),
        )
        .unwrap();
        assert_eq!(c.valid.len(), 2);
        assert_eq!(c.valid[1].payer, MemberId(3));
        assert_eq!(c.valid[0].region.get(), 1101);
        let lines: Vec<u64> = c.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8, 9, 10]);
        assert!(c.rejected[0].reason.contains("line 2"));
        for rej in &c.rejected {
            assert!(!rej.reason.contains("1101011203850"), "no NIK in reasons");
        }
        let missing = check(b"nik,name\n", &r, &AmountRule::Flat(Rupiah(1)), &payers());
        assert!(matches!(
            missing,
            Err(RegistryError::MissingColumn("family_card"))
        ));
    }

    #[test]
    fn a_range_program_needs_an_amount() {
        let csv = "nik,name,family_card,region_code,amount,channel\n\
            1101011203850001,Siti,1101010101010001,1101012001,,bri\n\
            1101011203850002,Budi,1101010101010002,1101012001,750000,bri\n";
        let rule = AmountRule::Range {
            min: Rupiah(225_000),
            max: Rupiah(3_000_000),
        };
        let c = check(csv.as_bytes(), &Regions::embedded(), &rule, &payers()).unwrap();
        assert_eq!(c.valid.len(), 1);
        assert_eq!(c.rejected.len(), 1);
        assert_eq!(c.valid[0].amount, Rupiah(750_000));
    }
}
