//! Unix seconds as a UTC calendar date and time of day, for people (letters, verdicts, file
//! names). Reads no clock.

/// Month names in Bahasa Indonesia, January first.
pub const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
/// Month names in English, January first.
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

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
        check(1_794_013_200, (2026, 11, 7, 1, 0, 0));
        check(1_798_761_599, (2026, 12, 31, 23, 59, 59));
        check(1_798_761_600, (2027, 1, 1, 0, 0, 0));
        assert_eq!(Utc::from_unix(1_798_761_599).compact(), "20261231T235959Z");
    }
}
