//! Writing files: private ones (keys, receipts) with mode 0600, and `testnet.json` atomically so
//! a concurrent reader never sees half of it.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use bansos_testnet::layout::TestnetFile;

/// Creates `path` (which must not exist) with mode 0600 and writes `contents`.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// Reads `DIR/testnet.json`.
pub fn read_testnet(dir: &Path) -> anyhow::Result<TestnetFile> {
    let path = dir.join(TestnetFile::FILE_NAME);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {}: is {} a testnet directory made by `bansos-testnet up`?",
            path.display(),
            dir.display()
        )
    })?;
    TestnetFile::from_bytes(&bytes)
        .with_context(|| format!("{} is not a testnet description", path.display()))
}

/// Replaces `DIR/testnet.json` (write a temporary file, then rename over).
pub fn write_testnet(dir: &Path, t: &TestnetFile) -> anyhow::Result<()> {
    let path = dir.join(TestnetFile::FILE_NAME);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        TestnetFile::FILE_NAME,
        std::process::id()
    ));
    std::fs::write(&tmp, t.to_bytes()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
