//! Files that hold a secret or personal data are for their owner only: mode 0600, folders 0700.
//!
//! The tools set those modes when they create such a file, but one that already exists may have
//! been made or copied by hand with a wider mode. A private key others can read is refused: it
//! may already have leaked, and its owner must look into that before anything signs with it.
//! Receipt stores and letter folders (personal data, not secrets that sign) are tightened.

use std::io::{self, Read as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// Mode bits that let anyone but the owner read, write or enter.
const OTHERS: u32 = 0o077;

/// Reads a private key file, refusing it if anyone but its owner can read or change it.
pub fn read_secret(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    // The mode of the file actually opened, not of whatever the path names a moment later.
    let mode = file.metadata()?.permissions().mode() & 0o777;
    if mode & OTHERS != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} holds a private key, but others can read or change it (mode {mode:03o}): it \
                 may have leaked; find out who could read it, then `chmod 600 {}` (or replace the \
                 key if it did leak)",
                path.display(),
                path.display()
            ),
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// Takes away every permission of others on `path` (a file of personal data, or a folder of
/// them), if it exists; says whether it had to.
pub fn tighten(path: &Path) -> io::Result<bool> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & OTHERS == 0 {
        return Ok(false);
    }
    let owner_only = if meta.is_dir() { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(owner_only))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_key_others_can_read_or_change_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("bri.key");
        std::fs::write(&key, "PRIVATE+KEY+bri+...").unwrap();
        for wide in [0o644, 0o640, 0o604, 0o620, 0o660] {
            with_mode(&key, wide);
            let e = read_secret(&key).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
            assert!(e.to_string().contains(&format!("mode {wide:03o}")), "{e}");
            assert!(
                !e.to_string().contains("PRIVATE"),
                "the key is never in the message"
            );
        }
        with_mode(&key, 0o600);
        assert_eq!(read_secret(&key).unwrap(), "PRIVATE+KEY+bri+...");
        with_mode(&key, 0o400);
        assert!(read_secret(&key).is_ok());
    }

    #[test]
    fn personal_data_is_made_the_owners_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("letters");
        std::fs::create_dir(&dir).unwrap();
        with_mode(&dir, 0o755);
        assert!(tighten(&dir).unwrap());
        assert_eq!(mode(&dir), 0o700);
        assert!(!tighten(&dir).unwrap());

        let store = tmp.path().join("receipts.jsonl");
        std::fs::write(&store, "{}\n").unwrap();
        with_mode(&store, 0o664);
        assert!(tighten(&store).unwrap());
        assert_eq!(mode(&store), 0o600);

        assert!(!tighten(&tmp.path().join("absent")).unwrap());
    }
}
