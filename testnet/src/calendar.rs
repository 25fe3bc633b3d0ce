//! Calendar arithmetic on Unix seconds (UTC) for demo periods and file names. It reads no
//! clock: the caller passes the time.

use bansos_verifier::entry::{Period, PeriodKind};

pub use bansos_verifier::time::Utc;

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
