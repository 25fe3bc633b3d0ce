//! The last checkpoint a validator signed, in a small file of its own ([`FileMark`]), kept
//! where a rollback of the store cannot take it: beside the validator's key, not in its data
//! directory (ARCHITECTURE.md, "Anti-rollback").

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bansos_ledger::SigningMark;
use bansos_verifier::hash::{Hash, TreeSize};

/// A [`SigningMark`] in a file: one line, `<size> <root as 64 hex digits>`.
pub struct FileMark {
    path: PathBuf,
}

impl FileMark {
    /// The mark at `path`; the file need not exist yet (nothing signed), but its directory
    /// must.
    pub fn new(path: &Path) -> FileMark {
        FileMark { path: path.into() }
    }
}

fn invalid(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{} is not a signing record: {why}", path.display()),
    )
}

impl SigningMark for FileMark {
    fn last(&self) -> std::io::Result<Option<(TreeSize, Hash)>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (size, root) = text
            .trim_end()
            .split_once(' ')
            .ok_or_else(|| invalid(&self.path, "expected `<size> <root>`"))?;
        let size = size
            .parse::<u64>()
            .map_err(|_| invalid(&self.path, "the size is not a number"))?;
        let root = Hash::from_hex(root).ok_or_else(|| invalid(&self.path, "bad root"))?;
        Ok(Some((TreeSize(size), root)))
    }

    /// A temporary file, fsync, rename, fsync of the directory.
    fn record(&mut self, size: TreeSize, root: Hash) -> std::io::Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = dir.join(tmp_name);
        let mut f = File::create(&tmp)?;
        f.write_all(format!("{} {}\n", size.0, root.to_hex()).as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.path)?;
        File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_damage_is_an_error_not_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kemensos.signed");
        let mut m = FileMark::new(&path);
        assert_eq!(m.last().unwrap(), None);
        m.record(TreeSize(42), Hash([7; 32])).unwrap();
        assert_eq!(
            FileMark::new(&path).last().unwrap(),
            Some((TreeSize(42), Hash([7; 32])))
        );
        std::fs::write(&path, "garbage").unwrap();
        assert!(FileMark::new(&path).last().is_err());
    }
}
