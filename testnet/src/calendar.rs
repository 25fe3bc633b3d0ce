//! Calendar arithmetic on Unix seconds (UTC) for demo periods and file names. It reads no
//! clock: the caller passes the time.

use bansos_verifier::entry::{Period, PeriodKind};

/// A UTC date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    /// Year, e.g. 2026.
    pub year: u32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59 (Unix time has no leap seconds).
    pub second: u32,
}

impl Utc {
    /// The date and time of `secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(secs: u64) -> Utc {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        // Howard Hinnant's civil_from_days, for days >= 0: eras of 400 years from 0000-03-01.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        Utc {
            year: year as u32,
            month: month as u32,
            day: day as u32,
            hour: (rem / 3_600) as u32,
            minute: (rem % 3_600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    /// `YYYYMMDDTHHMMSSZ` (ISO 8601 basic format): sorts by time, safe in file names.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The payment period of kind `kind` that contains `secs` (UTC). Panics outside the years
/// 2000–2999 that periods allow (a clock that far off is a bug of the machine, not an input).
pub fn period(kind: PeriodKind, secs: u64) -> Period {
    let t = Utc::from_unix(secs);
    let text = match kind {
        PeriodKind::Monthly => format!("{:04}-{:02}", t.year, t.month),
        PeriodKind::Quarterly => format!("{:04}Q{}", t.year, (t.month - 1) / 3 + 1),
        PeriodKind::Yearly => format!("{:04}", t.year),
    };
    Period::new(&text).unwrap_or_else(|| panic!("{text} is not a valid period (years 2000–2999)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(secs: u64, expected: (u32, u32, u32, u32, u32, u32)) {
        let t = Utc::from_unix(secs);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            expected,
            "{secs}"
        );
    }

    #[test]
    fn unix_seconds_become_utc_dates() {
        check(0, (1970, 1, 1, 0, 0, 0));
        check(951_782_400, (2000, 2, 29, 0, 0, 0));
        check(1_709_251_199, (2024, 2, 29, 23, 59, 59));
        check(1_709_251_200, (2024, 3, 1, 0, 0, 0));
        // The demo's first block: 2026-11-07 08:00 WIB (UTC+7).
        check(crate::demo::DEMO_START_TIME, (2026, 11, 7, 1, 0, 0));
        check(1_798_761_599, (2026, 12, 31, 23, 59, 59));
        check(1_798_761_600, (2027, 1, 1, 0, 0, 0));
        assert_eq!(Utc::from_unix(1_798_761_599).compact(), "20261231T235959Z");
    }

    #[test]
    fn periods_follow_the_date() {
        let t = crate::demo::DEMO_START_TIME;
        assert_eq!(period(PeriodKind::Monthly, t).as_str(), "2026-11");
        assert_eq!(period(PeriodKind::Quarterly, t).as_str(), "2026Q4");
        assert_eq!(period(PeriodKind::Yearly, t).as_str(), "2026");
        assert_eq!(
            period(PeriodKind::Quarterly, 1_709_251_199).as_str(),
            "2024Q1"
        );
        assert_eq!(
            period(PeriodKind::Quarterly, 1_709_251_200).as_str(),
            "2024Q1"
        );
        // 2024-04-01T00:00:00Z starts the second quarter.
        assert_eq!(
            period(PeriodKind::Quarterly, 1_711_929_600).as_str(),
            "2024Q2"
        );
        assert_eq!(
            period(PeriodKind::Monthly, 1_711_929_599).as_str(),
            "2024-03"
        );
    }
}
