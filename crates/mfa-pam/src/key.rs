//! Reading the master key file, refusing one that others could read.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use mfa_store::MasterKey;
use zeroize::Zeroizing;

use crate::{Error, KeyProblem};

/// The largest key file read (a key line is about 70 bytes).
pub const MAX_KEY_FILE_LEN: u64 = 4096;

/// The process's effective user id.
#[allow(unsafe_code)]
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid takes no arguments, touches no memory of ours and
    // cannot fail (POSIX: "shall always be successful").
    unsafe { libc::geteuid() }
}

/// Reads the master key (`<id>:<64 hex digits>`, as `mfa init` writes it)
/// from `path`, which must be a regular file (not a symbolic link) owned by
/// root or by the process's effective user, with no permission for group
/// or others. The checks are made on the opened file (`fstat`), so the file
/// cannot be swapped between the check and the read.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("master.key");
/// std::fs::write(&path, format!("1:{}\n", "ab".repeat(32)))?;
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
/// assert_eq!(pam_mfa::read_key_file(&path)?.id(), 1);
/// // Readable by the group: refused.
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))?;
/// assert!(pam_mfa::read_key_file(&path).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::KeyFile`] with the [`KeyProblem`].
pub fn read_key_file(path: &Path) -> Result<MasterKey, Error> {
    let fail = |problem| Error::KeyFile {
        path: path.to_owned(),
        problem,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| fail(KeyProblem::Io(e)))?;
    let meta = file.metadata().map_err(|e| fail(KeyProblem::Io(e)))?;
    if !meta.is_file() {
        return Err(fail(KeyProblem::NotAFile));
    }
    let euid = euid();
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(fail(KeyProblem::Owner {
            uid: meta.uid(),
            euid,
        }));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(fail(KeyProblem::Mode {
            mode: meta.mode() & 0o7777,
        }));
    }
    if meta.len() > MAX_KEY_FILE_LEN {
        return Err(fail(KeyProblem::TooLarge {
            max: MAX_KEY_FILE_LEN,
        }));
    }
    let mut text = Zeroizing::new(String::with_capacity(128));
    file.take(MAX_KEY_FILE_LEN)
        .read_to_string(&mut text)
        .map_err(|e| fail(KeyProblem::Io(e)))?;
    parse_key(&text).ok_or_else(|| fail(KeyProblem::Format))
}

/// `<id>:<64 hex digits>`, surrounding white space ignored.
fn parse_key(text: &str) -> Option<MasterKey> {
    let (id, hex) = text.trim().split_once(':')?;
    let id: u32 = id.trim().parse().ok()?;
    MasterKey::from_hex(id, hex.trim()).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn key_file(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
        let path = dir.join("k");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn a_private_well_formed_key_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file(dir.path(), &format!(" 7:{}\n", "0f".repeat(32)), 0o400);
        assert_eq!(read_key_file(&path).unwrap().id(), 7);
    }

    #[test]
    fn group_or_other_access_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o604, 0o620, 0o644, 0o660] {
            let path = key_file(dir.path(), &format!("1:{}", "0f".repeat(32)), mode);
            let e = read_key_file(&path).unwrap_err();
            assert!(
                matches!(e, Error::KeyFile { problem: KeyProblem::Mode { mode: m }, .. } if m == mode),
                "{mode:o}: {e}"
            );
        }
    }

    #[test]
    fn a_symbolic_link_a_directory_and_bad_text_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file(dir.path(), &format!("1:{}", "0f".repeat(32)), 0o600);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            read_key_file(&link),
            Err(Error::KeyFile {
                problem: KeyProblem::Io(_),
                ..
            })
        ));
        let sub = dir.path().join("d");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(
            read_key_file(&sub),
            Err(Error::KeyFile {
                problem: KeyProblem::NotAFile,
                ..
            })
        ));
        for text in ["", "1", "x:00", "1:zz", &format!("1:{}", "0f".repeat(31))] {
            let path = key_file(dir.path(), text, 0o600);
            assert!(
                matches!(
                    read_key_file(&path),
                    Err(Error::KeyFile {
                        problem: KeyProblem::Format,
                        ..
                    })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_file_owned_by_another_user_is_refused() {
        if euid() != 0 {
            // Only root can give a file away.
            let line = "SKIPPED: a_file_owned_by_another_user_is_refused: not running as root\n";
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = key_file(dir.path(), &format!("1:{}", "0f".repeat(32)), 0o600);
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        assert!(matches!(
            read_key_file(&path),
            Err(Error::KeyFile {
                problem: KeyProblem::Owner {
                    uid: 65534,
                    euid: 0
                },
                ..
            })
        ));
    }

    #[test]
    fn the_error_never_shows_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "5a".repeat(32);
        let path = key_file(dir.path(), &format!("1:{hex}"), 0o644);
        let e = read_key_file(&path).unwrap_err();
        assert!(!format!("{e} {e:?}").contains(&hex));
    }
}
