//! `bansos-audit report --aggregates OUT --out report.html`: one self-contained HTML file,
//! the page `verifier/web/dist/report.html` (tables and charts, built with the other web pages
//! and embedded here) with `OUT/aggregates.json` written into its data element in place of
//! [`PLACEHOLDER`]. Nothing is fetched when the report is opened.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::aggregates::AGGREGATES_FORMAT;

/// The report page, with [`PLACEHOLDER`] where the data goes.
const TEMPLATE: &str = include_str!("../../verifier/web/dist/report.html");
/// What the page's data element holds before the data is written in.
pub const PLACEHOLDER: &str = "__BANSOS_REPORT_DATA__";
/// The start of the data element, up to where its content begins.
const DATA_ELEMENT: &str = r#"<script type="application/json" id="report-data">"#;
/// Largest `aggregates.json` read (a log of 10^7 allocations gives a few MB).
pub const AGGREGATES_BYTES_MAX: u64 = 512 * 1024 * 1024;

/// Arguments of `report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The output directory of `aggregates` (or its aggregates.json).
    #[arg(long, value_name = "OUT")]
    pub aggregates: PathBuf,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = if args.aggregates.is_dir() {
        args.aggregates.join("aggregates.json")
    } else {
        args.aggregates.clone()
    };
    let json = read_aggregates(&path)?;
    let html = render(&json).with_context(|| format!("reading {}", path.display()))?;
    let tmp = args.out.with_extension("html.tmp");
    fs::write(&tmp, &html).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "OK report of {} written to {} ({} bytes)",
        path.display(),
        args.out.display(),
        html.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_aggregates(path: &Path) -> anyhow::Result<String> {
    let len = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > AGGREGATES_BYTES_MAX {
        bail!(
            "{} has {len} bytes, more than the {AGGREGATES_BYTES_MAX} a report holds",
            path.display()
        );
    }
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The report page with `aggregates_json` (the text of an `aggregates.json`) written in.
/// Refuses text that is not JSON of [`AGGREGATES_FORMAT`].
pub fn render(aggregates_json: &str) -> anyhow::Result<String> {
    let value: serde_json::Value =
        serde_json::from_str(aggregates_json).context("aggregates.json is not JSON")?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(AGGREGATES_FORMAT) => {}
        Some(other) => {
            bail!("aggregates.json is of format {other:?}; this report reads {AGGREGATES_FORMAT:?}")
        }
        None => bail!(
            "aggregates.json has no \"format\" field: not the output of bansos-audit aggregates ({AGGREGATES_FORMAT})"
        ),
    }
    for field in [
        "checkpoint",
        "totals",
        "by_program_period",
        "by_region",
        "by_channel",
        "by_payer",
        "time_to_claim",
        "rule_violations",
        "anomalies",
    ] {
        if value.get(field).is_none() {
            bail!("aggregates.json has no {field:?}");
        }
    }
    let slot = format!("{DATA_ELEMENT}{PLACEHOLDER}</script>");
    let at = TEMPLATE
        .find(&slot)
        .context("the embedded report page has no data element (verifier/web/dist/report.html)")?;
    // JSON has `<` only inside strings, where `\u003c` means the same: the data can then never
    // close its script element or open a comment.
    let data = aggregates_json.trim().replace('<', "\\u003c");
    let start = at + DATA_ELEMENT.len();
    let mut html = String::with_capacity(TEMPLATE.len() + data.len());
    html.push_str(&TEMPLATE[..start]);
    html.push_str(&data);
    html.push_str(&TEMPLATE[start + PLACEHOLDER.len()..]);
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_element(html: &str) -> &str {
        let start = html.find(DATA_ELEMENT).unwrap() + DATA_ELEMENT.len();
        let end = start + html[start..].find("</script>").unwrap();
        &html[start..end]
    }

    fn sample(format: &str, detail: &str) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "format": format,
            "checkpoint": {"origin": "o", "size": 3, "root": "AAAA"},
            "generated_at": 1,
            "totals": {},
            "by_program_period": [], "by_region": [], "by_channel": [], "by_payer": [],
            "time_to_claim": [],
            "rule_violations": [{"rule": "over_claim", "entries": [1, 2], "detail": detail}],
            "anomalies": []
        }))
        .unwrap()
    }

    #[test]
    fn the_page_has_one_data_element() {
        assert_eq!(TEMPLATE.matches(DATA_ELEMENT).count(), 1);
        assert!(TEMPLATE.contains(&format!("{DATA_ELEMENT}{PLACEHOLDER}</script>")));
    }

    #[test]
    fn the_data_is_written_in_and_cannot_close_its_element() {
        let json = sample(AGGREGATES_FORMAT, "</script><script>alert(1)</script><!--");
        let html = render(&json).unwrap();
        let data = data_element(&html);
        assert!(!data.contains('<'));
        assert!(!data.contains(PLACEHOLDER));
        assert_eq!(
            html.matches(PLACEHOLDER).count(),
            TEMPLATE.matches(PLACEHOLDER).count() - 1
        );
        let back: serde_json::Value = serde_json::from_str(data).unwrap();
        let orig: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, orig);
        assert!(html.len() > TEMPLATE.len());
    }

    #[test]
    fn other_formats_are_refused() {
        for bad in [
            sample("bansos-ledger/aggregates@v2", ""),
            r#"{"totals": {}}"#.to_string(),
            "not json".to_string(),
            "[1, 2]".to_string(),
        ] {
            assert!(render(&bad).is_err(), "{bad}");
        }
        let mut v: serde_json::Value =
            serde_json::from_str(&sample(AGGREGATES_FORMAT, "")).unwrap();
        v.as_object_mut().unwrap().remove("anomalies");
        assert!(render(&v.to_string()).is_err());
    }
}
