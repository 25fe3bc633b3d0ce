//! Indonesian region codes (Kepmendagri 2025: provinces, kabupaten/kota, kecamatan, desa) and the
//! checks a registry row must pass: a plausible NIK and a known desa code.
//!
//! The codes are embedded (`client/data/wilayah.csv`, MIT, from cahyadsn/wilayah); they are public
//! reference data, never personal data.

use std::collections::{BTreeMap, HashSet};

/// The embedded region list: `code,name` with dotted codes.
const WILAYAH: &str = include_str!("../data/wilayah.csv");

/// Known region codes, without dots.
pub struct Regions {
    provinces: HashSet<u8>,
    /// Highest kabupaten number (01–69) and kota number (71–99) per province.
    kab_kota_max: BTreeMap<u8, (u8, u8)>,
    kab_kota: HashSet<u16>,
    kecamatan: HashSet<u32>,
    desa: HashSet<u64>,
}

/// Why a NIK is refused. Sentences never repeat the NIK itself (it is personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    /// Not 16 digits.
    #[error("the NIK is not 16 digits")]
    Shape,
    /// Unknown province.
    #[error("the NIK's province code does not exist")]
    Province,
    /// Kabupaten/kota number out of the province's range.
    #[error("the NIK's kabupaten/kota number is outside its province's range")]
    KabKota,
    /// Impossible birth date.
    #[error("the NIK's birth date is impossible (day, or day + 40 for women, and month)")]
    BirthDate,
    /// Serial 0000.
    #[error("the NIK's serial number is 0000")]
    Serial,
}

/// A NIK that passed, with what deserves a second look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NikCheck {
    /// Warnings (e.g. a kecamatan code unknown today: regions split).
    pub warnings: Vec<&'static str>,
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Regions {
    /// Parses the embedded list.
    pub fn embedded() -> Regions {
        let mut r = Regions {
            provinces: HashSet::new(),
            kab_kota_max: BTreeMap::new(),
            kab_kota: HashSet::new(),
            kecamatan: HashSet::new(),
            desa: HashSet::new(),
        };
        for line in WILAYAH.lines().skip(1) {
            let Some((code, _)) = line.split_once(',') else {
                continue;
            };
            let parts: Vec<&str> = code.split('.').collect();
            let Some(p) = parts.first().and_then(|p| digits(p)) else {
                continue;
            };
            let p = p as u8;
            match parts.len() {
                1 => {
                    r.provinces.insert(p);
                }
                2 => {
                    let Some(k) = digits(parts[1]) else { continue };
                    let k = k as u8;
                    r.kab_kota.insert(u16::from(p) * 100 + u16::from(k));
                    let e = r.kab_kota_max.entry(p).or_insert((0, 0));
                    if k < 70 {
                        e.0 = e.0.max(k);
                    } else {
                        e.1 = e.1.max(k);
                    }
                }
                3 => {
                    if let Some(c) = digits(&parts.concat()) {
                        r.kecamatan.insert(c as u32);
                    }
                }
                4 => {
                    if let Some(d) = digits(&parts.concat()) {
                        r.desa.insert(d);
                    }
                }
                _ => {}
            }
        }
        r
    }

    /// Whether a 10-digit desa/kelurahan code (no dots) exists.
    pub fn is_desa(&self, code: &str) -> bool {
        code.len() == 10 && digits(code).is_some_and(|d| self.desa.contains(&d))
    }

    /// Whether a 4-digit kabupaten/kota code exists.
    pub fn is_kab_kota(&self, code: u16) -> bool {
        self.kab_kota.contains(&code)
    }

    /// Checks a NIK: 16 digits `PP KK CC DDMMYY SSSS`, a real province, a kabupaten/kota number
    /// within the province's range (01–max kabupaten, or 71–max kota), a possible birth date
    /// (day + 40 for women), a serial above 0000. An unknown kecamatan is a warning, not an
    /// error: regions split and NIKs keep their old codes.
    pub fn check_nik(&self, nik: &str) -> Result<NikCheck, NikError> {
        if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NikError::Shape);
        }
        let n = |a: usize, b: usize| nik[a..b].parse::<u32>().expect("digits");
        let (p, k) = (n(0, 2) as u8, n(2, 4) as u8);
        if !self.provinces.contains(&p) {
            return Err(NikError::Province);
        }
        let (kab_max, kota_max) = self.kab_kota_max.get(&p).copied().unwrap_or((0, 0));
        let in_range = (1..=kab_max).contains(&k) || (71..=kota_max).contains(&k);
        if !in_range {
            return Err(NikError::KabKota);
        }
        let (day, month) = (n(6, 8), n(8, 10));
        let day = if day > 40 { day - 40 } else { day };
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 => 29,
            _ => 0,
        };
        if day == 0 || day > days_in_month {
            return Err(NikError::BirthDate);
        }
        if n(12, 16) == 0 {
            return Err(NikError::Serial);
        }
        let mut warnings = Vec::new();
        if !self.kecamatan.contains(&n(0, 6)) {
            warnings.push("the NIK's kecamatan code is not in today's list (regions split)");
        }
        Ok(NikCheck { warnings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_has_every_level() {
        let r = Regions::embedded();
        assert_eq!(r.provinces.len(), 38);
        assert_eq!(r.kab_kota.len(), 514);
        assert_eq!(r.kecamatan.len(), 7_285);
        assert_eq!(r.desa.len(), 83_762);
        assert!(r.is_desa("1101012001"));
        assert!(!r.is_desa("1101012999"));
        assert!(!r.is_desa("11.01.01.2001"));
        assert!(r.is_kab_kota(3171));
    }

    #[test]
    fn niks_are_checked_field_by_field() {
        let r = Regions::embedded();
        // Kecamatan 11.01.01, born 12 March 1985 (a man), serial 0001.
        assert_eq!(r.check_nik("1101011203850001").unwrap().warnings.len(), 0);
        // A woman: day + 40.
        assert!(r.check_nik("1101015203850001").is_ok());
        assert_eq!(r.check_nik("110101120385001"), Err(NikError::Shape));
        assert_eq!(r.check_nik("11010112038500a1"), Err(NikError::Shape));
        assert_eq!(r.check_nik("9901011203850001"), Err(NikError::Province));
        assert_eq!(r.check_nik("1169011203850001"), Err(NikError::KabKota));
        assert_eq!(r.check_nik("1100011203850001"), Err(NikError::KabKota));
        assert_eq!(r.check_nik("1101013203850001"), Err(NikError::BirthDate));
        assert_eq!(r.check_nik("1101011213850001"), Err(NikError::BirthDate));
        assert_eq!(r.check_nik("1101013102850001"), Err(NikError::BirthDate));
        assert!(
            r.check_nik("1101012902850001").is_ok(),
            "29 February exists"
        );
        assert_eq!(r.check_nik("1101011203850000"), Err(NikError::Serial));
        // Kota Jakarta Pusat exists (31.71); an unknown kecamatan 99 is only a warning.
        let w = r.check_nik("3171991203850001").unwrap();
        assert_eq!(w.warnings.len(), 1);
    }
}
