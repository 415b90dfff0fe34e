//! What every store command shares: the database URL, the master key, the
//! clock, files for secrets, dates (results are printed by
//! [`crate::output`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use mfa_oath::UnixTime;
use mfa_store::{MasterKey, Store};
use zeroize::Zeroizing;

use crate::Failure;

/// The environment variable that may hold the master key (`<id>:<64 hex digits>`).
pub(crate) const KEY_ENV: &str = "MFA_MASTER_KEY";

/// Global options of the store commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Global {
    /// The store: `sqlite:<path>` (embedded, the default) or `postgres://…`.
    #[arg(long, global = true, env = "MFA_DB", default_value = "sqlite:mfa.db")]
    pub(crate) db: String,
    /// The master key file (`<id>:<64 hex digits>`, made by `mfa init`).
    /// The environment variable MFA_MASTER_KEY, if set, is used instead.
    #[arg(long, global = true, env = "MFA_KEY_FILE", default_value = "mfa.key")]
    pub(crate) key_file: PathBuf,
    /// Print the result as JSON, for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Global {
    /// The master key from MFA_MASTER_KEY or the key file.
    pub(crate) fn master_key(&self) -> Result<MasterKey, Failure> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            let text = Zeroizing::new(text);
            return parse_key(&text).map_err(|e| Failure::input(format!("{KEY_ENV}: {e}")));
        }
        read_key_file(&self.key_file)
    }

    /// Opens the store (creating an SQLite file if needed).
    pub(crate) fn open(&self) -> Result<Store, Failure> {
        let key = self.master_key()?;
        Store::open(&self.db, &key).map_err(|e| Failure::store(&self.db, e))
    }
}

pub(crate) fn read_key_file(path: &Path) -> Result<MasterKey, Failure> {
    let text = std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| {
        Failure::input(format!(
            "cannot read the master key file {}: {e} (run `mfa init`, or pass --key-file or {KEY_ENV})",
            path.display()
        ))
    })?;
    parse_key(&text).map_err(|e| Failure::input(format!("{}: {e}", path.display())))
}

/// `<id>:<64 hex digits>`, surrounding white space ignored.
pub(crate) fn parse_key(text: &str) -> Result<MasterKey, String> {
    let text = text.trim();
    let (id, hex) = text
        .split_once(':')
        .ok_or_else(|| "a master key is written `<id>:<64 hex digits>`".to_string())?;
    let id: u32 = id
        .trim()
        .parse()
        .map_err(|_| format!("the key id {:?} is not a number", id.trim()))?;
    MasterKey::from_hex(id, hex.trim()).map_err(|e| e.to_string())
}

/// `N` bytes from the operating system's random number generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, Failure> {
    let mut bytes = Zeroizing::new([0u8; N]);
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, bytes.as_mut())
        .map_err(|e| Failure::input(format!("the system random number generator failed: {e}")))?;
    Ok(bytes)
}

/// A new file only the owner can read (mode 0600), never over an existing one.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A new file for secrets or personal data (a backup, a token export, an
/// errors CSV with secrets, a log export): mode 0600, created only if it
/// does not exist. An existing file is refused with a clear message (exit
/// status 2) unless `force`, which replaces it (removed, then created anew
/// with mode 0600, so a replaced file never keeps wider permissions).
pub(crate) fn create_secret_file(
    path: &Path,
    force: bool,
    option: &str,
) -> Result<std::fs::File, Failure> {
    let fail =
        |e: &dyn std::fmt::Display| Failure::input(format!("{option}{}: {e}", path.display()));
    if force {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    create_private_file(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path, option)
        } else {
            fail(&e)
        }
    })
}

/// The refusal to overwrite a file.
pub(crate) fn exists(path: &Path, option: &str) -> Failure {
    Failure::input(format!(
        "{option}{}: the file exists and is not overwritten (pass --force to replace it)",
        path.display()
    ))
}

/// The first line of a passphrase file (`--passphrase-file`).
pub(crate) fn read_passphrase(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| Failure::input(format!("--passphrase-file {}: {e}", path.display())))?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_string(),
    ))
}

/// A key given in hex (upper or lower case, white space ignored).
pub(crate) fn decode_hex(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let digits: Zeroizing<Vec<u8>> =
        Zeroizing::new(text.bytes().filter(|b| !b.is_ascii_whitespace()).collect());
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(&digits)
        .map(Zeroizing::new)
        .map_err(|_| "not a hex key".to_string())
}

/// A new master key file: 32 random bytes, written with mode 0600, never
/// over an existing file.
pub(crate) fn create_key_file(path: &Path, id: u32) -> Result<MasterKey, Failure> {
    let bytes = random_bytes::<32>()?;
    let hex = Zeroizing::new(data_encoding::HEXLOWER.encode(bytes.as_ref()));
    let key = MasterKey::from_hex(id, &hex).map_err(|e| Failure::input(e.to_string()))?;
    let mut file = create_private_file(path).map_err(|e| {
        Failure::input(format!(
            "cannot create the master key file {}: {e}",
            path.display()
        ))
    })?;
    let line = Zeroizing::new(format!("{id}:{}\n", hex.as_str()));
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
    Ok(key)
}

/// The system clock: the binaries are the only place that reads it.
pub(crate) fn now() -> UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UnixTime::from_secs(secs)
}

/// Parses a time given as Unix seconds or `YYYY-MM-DD` (UTC midnight), with
/// mfa-time's calendar (the one of the workspace): a day the calendar does
/// not have, such as 2024-02-31, is refused.
pub(crate) fn parse_time(text: &str) -> Result<UnixTime, Failure> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(UnixTime::from_secs(secs));
    }
    UnixTime::parse_date(text).map_err(|e| {
        Failure::input(format!(
            "{text:?} is not a date (YYYY-MM-DD) or Unix seconds: {e}"
        ))
    })
}

/// The first second of month `m` of year `y` (UTC), with mfa-time's calendar.
pub(crate) fn month_start(y: i64, m: u8) -> Result<UnixTime, Failure> {
    mfa_time::Date::new(y, m, 1)
        .and_then(mfa_time::Date::midnight)
        .map_err(|e| Failure::input(format!("{y:04}-{m:02}: {e}")))
}

/// A secret given on the command line, or `-` for one line of standard
/// input (so it stays out of the process list), wiped on drop.
pub(crate) fn secret_arg(value: String) -> Result<Zeroizing<String>, Failure> {
    if value != "-" {
        return Ok(Zeroizing::new(value));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::input(format!("standard input: {e}")))?;
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (mfa-time's RFC 3339 form).
pub(crate) fn format_time(t: UnixTime) -> String {
    t.rfc3339().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_time("1970-01-01").unwrap().secs(), 0);
        assert_eq!(parse_time("2009-02-13").unwrap().secs(), 1_234_483_200);
        assert_eq!(parse_time("1234567890").unwrap().secs(), 1_234_567_890);
        assert!(parse_time("2024-13-01").is_err());
        assert!(parse_time("2024-02-31").is_err(), "no such day");
        assert!(parse_time("2023-02-29").is_err(), "not a leap year");
        assert_eq!(parse_time("2024-02-29").unwrap().secs(), 1_709_164_800);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(month_start(2024, 3).unwrap().secs(), 1_709_251_200);
        assert_eq!(
            format_time(UnixTime::from_secs(1_234_567_890)),
            "2009-02-13T23:31:30Z"
        );
        assert_eq!(
            format_time(UnixTime::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn key_text() {
        let k = parse_key(&format!(" 7:{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(k.id(), 7);
        assert!(parse_key("ab").is_err());
        assert!(parse_key("x:ab").is_err());
        assert!(parse_key("1:abc").is_err());
    }

    #[test]
    fn hex_keys() {
        assert_eq!(
            decode_hex("00 ff\nAb").unwrap().as_slice(),
            &[0x00, 0xff, 0xab]
        );
        assert!(decode_hex("abc").is_err());
        assert!(decode_hex("zz").is_err());
    }
}
