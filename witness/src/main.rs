//! `bansos-witness` (in progress): a C2SP tlog-witness for this network's log.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("bansos-witness is not written yet")
}
