//! Files that hold secrets or personal data — the errors CSV, a backup, a
//! token export, a log export, the master key file — are created with mode
//! 0600 and never silently overwritten, through the real `mfa` binary.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

/// A secret the reader rejects (it has a `1`, which is not base32).
const BAD_SECRET: &str = "1234567abcdef1234567abcdef";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        env.ok(&["init"]);
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("mfa")
            .unwrap()
            .env_remove("MFA_MASTER_KEY")
            .env(
                "MFA_DB",
                format!("sqlite:{}", self.path("mfa.db").display()),
            )
            .env("MFA_KEY_FILE", self.path("mfa.key"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "mfa {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs, expects exit status 2, returns stderr.
    fn refused(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "mfa {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stderr).unwrap()
    }

    fn mode(&self, name: &str) -> u32 {
        std::fs::metadata(self.path(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// A file someone else left: world-readable, with other content.
    fn plant(&self, name: &str) {
        std::fs::write(self.path(name), b"old content\n").unwrap();
        std::fs::set_permissions(self.path(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// Checks that writing `name` with `args` refuses an existing file
    /// (exit 2, one clear line, file unchanged) and replaces it with
    /// `--force` (mode 0600 again, even over a mode-0644 file).
    fn never_overwrites(&self, name: &str, args: &[&str]) {
        assert_eq!(self.mode(name), 0o600, "{name}");
        let before = self.read(name);
        let err = self.refused(args);
        assert!(
            err.contains(name) && err.contains("exists") && err.contains("--force"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(self.read(name), before, "{name} was changed");
        self.plant(name);
        let mut forced = args.to_vec();
        forced.push("--force");
        self.ok(&forced);
        assert_ne!(self.read(name), b"old content\n");
        assert_eq!(self.mode(name), 0o600, "{name} after --force");
    }
}

#[test]
fn the_master_key_file_is_private_and_kept() {
    let env = Env::new();
    assert_eq!(env.mode("mfa.key"), 0o600);
    let key = env.read("mfa.key");
    env.ok(&["init"]);
    assert_eq!(env.read("mfa.key"), key);
}

#[test]
fn the_errors_csv_is_private_never_overwritten_and_holds_secrets_only_when_asked() {
    let env = Env::new();
    let upload = |serial: &str| {
        format!(
            "upn,serial number,secret key,time interval,manufacturer,model\n\
             helga@contoso.com,{serial},2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
             erik@contoso.com,X-{serial},{BAD_SECRET},60,Contoso,HardwareKey\n"
        )
    };
    std::fs::write(env.path("upload.csv"), upload("C-1")).unwrap();
    env.ok(&["import", "upload.csv", "--errors-csv", "errors.csv"]);
    assert_eq!(env.mode("errors.csv"), 0o600);
    let text = String::from_utf8(env.read("errors.csv")).unwrap();
    assert!(!text.contains(BAD_SECRET), "secret written unasked: {text}");
    assert!(text.contains("erik@contoso.com,X-C-1,,60"), "{text}");

    // An existing errors file is refused before anything is imported.
    std::fs::write(env.path("upload2.csv"), upload("C-2")).unwrap();
    let before = env.read("errors.csv");
    let err = env.refused(&["import", "upload2.csv", "--errors-csv", "errors.csv"]);
    assert!(
        err.contains("errors.csv") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(env.read("errors.csv"), before);
    let tokens = env.ok(&["tokens", "list"]);
    assert!(
        !tokens.contains("C-2"),
        "imported although refused: {tokens}"
    );

    // Replaced with --force; secrets only with --errors-csv-secrets.
    env.plant("errors.csv");
    env.ok(&[
        "import",
        "upload2.csv",
        "--errors-csv",
        "errors.csv",
        "--errors-csv-secrets",
        "--force",
    ]);
    assert_eq!(env.mode("errors.csv"), 0o600);
    let text = String::from_utf8(env.read("errors.csv")).unwrap();
    assert!(text.contains(BAD_SECRET), "{text}");
    assert!(!text.contains("old content"));
    // The flags mean nothing without a file.
    env.refused(&["import", "upload2.csv", "--errors-csv-secrets"]);
}

#[test]
fn backups_exports_and_log_files_are_private_and_never_overwritten() {
    let env = Env::new();
    env.ok(&["users", "add", "helga", "--email", "helga@contoso.com"]);

    env.ok(&["backup", "store.backup"]);
    env.never_overwrites("store.backup", &["backup", "store.backup"]);
    assert!(!env.path("store.partial").exists(), "temporary file left");

    env.ok(&["tokens", "export", "tokens.pskcxml", "--plain"]);
    env.never_overwrites(
        "tokens.pskcxml",
        &["tokens", "export", "tokens.pskcxml", "--plain"],
    );

    let report = [
        "report",
        "auth",
        "--since",
        "1970-01-01",
        "--csv",
        "log.csv",
    ];
    env.ok(&report);
    env.never_overwrites("log.csv", &report);
}
