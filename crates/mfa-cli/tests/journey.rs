//! The administrator's whole journey through the real `mfa` binary, from
//! `init` to `report`, on the embedded SQLite store and on PostgreSQL
//! (`MFA_TEST_POSTGRES_URL`; a loud SKIPPED line when it is not set, a
//! failure under `CI=true`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
/// RFC 4226 Appendix D, counters 0.. with 8 digits (RFC 6030 figure 6's token).
const HOTP8: [&str; 6] = [
    "84755224", "94287082", "37359152", "26969429", "40338314", "68254676",
];

struct Env {
    dir: tempfile::TempDir,
    db: String,
    _pg: Option<PgSchema>,
}

struct PgSchema {
    base: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = mfa_store::connect_postgres(&self.base) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

impl Env {
    fn sqlite() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("mfa.db").display());
        Env { dir, db, _pg: None }
    }

    fn postgres(test: &str) -> Option<Env> {
        let Ok(base) = std::env::var("MFA_TEST_POSTGRES_URL") else {
            mfa_test_support::skip!("{test} on PostgreSQL: MFA_TEST_POSTGRES_URL is not set");
            return None;
        };
        let schema = format!("cli_{test}_{}", std::process::id());
        let mut c = mfa_store::connect_postgres(&base).expect("connect to MFA_TEST_POSTGRES_URL");
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let db = format!("{base}{sep}options=-csearch_path%3D{schema}");
        Some(Env {
            dir: tempfile::tempdir().unwrap(),
            db,
            _pg: Some(PgSchema { base, schema }),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn mfa(&self) -> Command {
        let mut c = Command::cargo_bin("mfa").unwrap();
        c.env_remove("MFA_MASTER_KEY")
            .env("MFA_DB", &self.db)
            .env("MFA_KEY_FILE", self.path("mfa.key"))
            .current_dir(self.dir.path());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.mfa().args(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "mfa {args:?} failed ({:?}): {}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs and expects exit status `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "mfa {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
        assert!(err.starts_with("mfa: "), "{err:?}");
        err
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{out:?}: {e}"))
    }

    fn json_denied(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = self.run(&a);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

fn corpus(p: &str) -> String {
    Path::new(CORPUS).join(p).display().to_string()
}

fn journey(env: &Env) {
    // init makes the key (mode 0600) and the store; a second init keeps the key.
    env.ok(&["init"]);
    let key = std::fs::read_to_string(env.path("mfa.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("mfa.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.ok(&["init"]);
    assert_eq!(std::fs::read_to_string(env.path("mfa.key")).unwrap(), key);

    // Imports: an encrypted PSKC (RFC 6030 figure 6), a PBKDF2 one, a CSV
    // with one bad row and an errors CSV.
    let v = env.json(&[
        "import",
        &corpus("pskc/rfc6030/figure6.pskcxml"),
        "--psk",
        "12345678901234567890123456789012",
    ]);
    assert_eq!(v["imported"], 1);
    let wrong = env.fails(
        &[
            "import",
            &corpus("pskc/rfc6030/figure6.pskcxml"),
            "--psk",
            "00000000000000000000000000000000",
        ],
        2,
    );
    assert!(
        wrong.to_lowercase().contains("mac") || wrong.contains("key"),
        "{wrong}"
    );
    std::fs::write(env.path("pass.txt"), "qwerty\n").unwrap();
    let v = env.json(&[
        "import",
        &corpus("pskc-generated/pbkdf2-fig7params.pskcxml"),
        "--passphrase-file",
        env.path("pass.txt").to_str().unwrap(),
    ]);
    assert_eq!(v["imported"], 2);
    std::fs::write(
        env.path("upload.csv"),
        "upn,serial number,secret key,time interval,manufacturer,model\n\
         helga@contoso.com,C-1,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
         =cmd|' /C calc'!A0,C-2,1234567abcdef1234567abcdef,60,Contoso,HardwareKey\n",
    )
    .unwrap();
    let out = env.ok(&["import", "upload.csv", "--errors-csv", "errors.csv"]);
    assert!(out.contains("1 imported, 1 rejected"), "{out}");
    let errors = std::fs::read_to_string(env.path("errors.csv")).unwrap();
    let mut lines = errors.lines();
    assert_eq!(
        lines.next().unwrap(),
        "upn,serial number,secret key,time interval,manufacturer,model,line,error"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("'=cmd"), "formula neutralised: {row}");
    assert!(
        row.contains(",3,") && row.contains("illegal character '1' at position 1"),
        "{row}"
    );
    // All or nothing: the same bad file imports nothing, and says so.
    std::fs::write(
        env.path("upload2.csv"),
        "upn,serial number,secret key,time interval,manufacturer,model\n\
         a@contoso.com,C-3,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
         b@contoso.com,C-4,1234567abcdef1234567abcdef,60,Contoso,HardwareKey\n",
    )
    .unwrap();
    env.fails(&["import", "upload2.csv", "--all-or-nothing"], 2);
    let tokens = env.json(&["tokens", "list"]);
    let serials: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["serial"].as_str().unwrap())
        .collect();
    assert!(
        serials.contains(&"C-1") && !serials.contains(&"C-3"),
        "{serials:?}"
    );
    assert!(serials.contains(&"987654321"));

    // Users and tokens.
    env.ok(&[
        "users",
        "add",
        "helga",
        "--first",
        "Helga",
        "--email",
        "helga@contoso.com",
    ]);
    env.ok(&["tokens", "assign", "987654321", "helga"]);
    // Not activated yet: denied with the reference's words.
    let v = env.json_denied(&["verify", "helga", HOTP8[1]]);
    assert_eq!(v["reason"], "not_activated");
    env.ok(&["tokens", "activate", "987654321", HOTP8[0]]);
    let v = env.json(&["verify", "helga", HOTP8[1], "--client-ip", "203.0.113.7"]);
    assert_eq!(v["result"], "approved");
    // Replay: exit 1, the reason on stderr.
    let err = env.fails(&["verify", "helga", HOTP8[1]], 1);
    assert!(err.to_lowercase().contains("already used"), "{err}");
    // A token cannot belong to two users.
    env.ok(&["users", "add", "bob"]);
    env.fails(&["tokens", "assign", "987654321", "bob"], 2);

    // Lockout: ten wrong codes lock; an admin unblocks with a reason.
    for _ in 0..10 {
        env.json_denied(&["verify", "helga", "00000000"]);
    }
    let v = env.json(&["lockout", "status", "helga"]);
    assert_eq!(v["locked"], true, "{v}");
    let v = env.json_denied(&["verify", "helga", HOTP8[2]]);
    assert_eq!(v["reason"], "locked", "{v}");
    env.ok(&[
        "lockout",
        "unblock",
        "helga",
        "--reason",
        "called the helpdesk",
    ]);
    env.json(&["verify", "helga", HOTP8[2]]);

    // Fraud by phone: 0# then 1 blocks and raises risk; both must be undone.
    let v = env.json(&[
        "fraud",
        "report",
        "helga",
        "--channel",
        "phone",
        "--keys",
        "0#1",
    ]);
    assert_eq!(v["blocked"], true);
    assert_eq!(v["high_risk"], true);
    let v = env.json_denied(&["verify", "helga", HOTP8[3]]);
    assert_eq!(v["reason"], "fraud_blocked", "{v}");
    env.ok(&["fraud", "unblock", "helga", "--reason", "reviewed"]);
    env.json_denied(&["verify", "helga", HOTP8[3]]);
    env.ok(&["risk", "remediate", "helga", "--how", "password-reset"]);
    let v = env.json(&["verify", "helga", HOTP8[3]]);
    assert_eq!(v["result"], "approved");

    // Reports.
    let v = env.json(&["users", "show", "helga"]);
    assert_eq!(v["tokens"][0]["serial"], "987654321");
    assert_eq!(v["tokens"][0]["active"], true);
    let log = env.json(&[
        "report",
        "auth",
        "--since",
        "2000-01-01",
        "--csv",
        "log.csv",
    ]);
    let events = log.as_array().unwrap();
    assert!(events.len() >= 16, "{}", events.len());
    assert!(events.iter().any(|e| e["client_ip"] == "203.0.113.7"));
    let csv = std::fs::read_to_string(env.path("log.csv")).unwrap();
    assert!(csv.starts_with("time,"), "{csv}");
    assert_eq!(csv.lines().count(), events.len() + 1);

    // Backup, then restore into a fresh SQLite store: the same tokens.
    env.ok(&["backup", "store.backup"]);
    let restored = format!("sqlite:{}", env.path("restored.db").display());
    let o = env
        .mfa()
        .env("MFA_DB", &restored)
        .args(["restore", "store.backup"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = env.ok(&["tokens", "list", "--format", "csv"]);
    let o = env
        .mfa()
        .env("MFA_DB", &restored)
        .args(["tokens", "list", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(o.stdout).unwrap(), a);

    // Rekey, then the old key no longer opens the store and the new one does.
    env.ok(&["rekey", "--new-key-file", "new.key"]);
    env.fails(&["tokens", "list"], 2);
    let o = env
        .mfa()
        .env("MFA_KEY_FILE", env.path("new.key"))
        .args(["verify", "helga", HOTP8[4]])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn journey_sqlite() {
    journey(&Env::sqlite());
}

#[test]
fn journey_postgres() {
    if let Some(env) = Env::postgres("journey") {
        journey(&env);
    }
}

#[test]
fn demo_runs_the_whole_job() {
    let env = Env::sqlite();
    let out = env.ok(&["demo", "--dir", env.path("demo").to_str().unwrap()]);
    assert!(out.contains("3 imported, 0 rejected"), "{out}");
    assert!(out.contains("   approved"), "{out}");
    assert!(out.contains("denied: The code was already used"), "{out}");
    // A second run refuses to reuse the directory.
    env.fails(&["demo", "--dir", env.path("demo").to_str().unwrap()], 2);
}

#[test]
fn bad_input_is_one_clear_line() {
    let env = Env::sqlite();
    // No key file yet.
    let err = env.fails(&["tokens", "list"], 2);
    assert!(err.contains("mfa init"), "{err}");
    env.ok(&["init"]);
    let err = env.fails(&["import", "missing.pskcxml"], 2);
    assert!(err.contains("missing.pskcxml"), "{err}");
    let err = env.fails(&["tokens", "assign", "NOPE", "helga"], 2);
    assert!(err.contains("NOPE"), "{err}");
    // A user id with a control character: refused by the store's one rule
    // (mfa-record's UserId), in one line that names the character, and the
    // token stays unassigned.
    env.ok(&[
        "import",
        &corpus("pskc/rfc6030/figure6.pskcxml"),
        "--psk",
        "12345678901234567890123456789012",
    ]);
    let list = env.json(&["tokens", "list"]);
    let serial = list[0]["serial"].as_str().unwrap().to_owned();
    let err = env.fails(&["tokens", "assign", &serial, "eve\nadmin"], 2);
    assert!(err.contains("'\\n' at position 4"), "{err}");
    let list = env.json(&["tokens", "list"]);
    assert!(list.to_string().contains(&serial), "{list}");
    assert!(!list.to_string().contains("eve"), "{list}");
    // A PostgreSQL URL's password is never echoed in an error.
    for url in [
        "postgres://mfa:hunter2@127.0.0.1:1/mfa",
        "postgres://mfa@127.0.0.1:1/mfa?password=hunter2&sslmode=disable",
    ] {
        let o = env
            .mfa()
            .env("MFA_DB", url)
            .args(["tokens", "list"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("127.0.0.1:1"), "names the store: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let err = env.fails(&["report", "usage", "--month", "2026-13"], 2);
    assert!(err.contains("YYYY-MM"), "{err}");
    // A wrong key changes nothing and says what to check.
    std::fs::write(env.path("other.key"), format!("1:{}\n", "ab".repeat(32))).unwrap();
    let o = env
        .mfa()
        .env("MFA_KEY_FILE", env.path("other.key"))
        .args(["tokens", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("key"));
    // A file that is not an SQLite database is refused, not overwritten.
    std::fs::write(env.path("junk.db"), b"not a database at all, really not").unwrap();
    let o = env
        .mfa()
        .env(
            "MFA_DB",
            format!("sqlite:{}", env.path("junk.db").display()),
        )
        .args(["tokens", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(env.path("junk.db")).unwrap(),
        b"not a database at all, really not"
    );
}

fn config(env: &Env) {
    env.ok(&["init"]);
    let v = env.json(&["config", "show"]);
    assert_eq!(v["lockout.denials"]["value"], "10");
    assert_eq!(v["lockout.denials"]["stored"], false);
    // All or nothing: one bad pair stores none.
    let err = env.fails(
        &["config", "set", "lockout.denials=3", "fraud.alert=perhaps"],
        2,
    );
    assert!(err.contains("fraud.alert"), "{err}");
    let err = env.fails(&["config", "set", "no.such=1"], 2);
    assert!(err.contains("no.such"), "{err}");
    let err = env.fails(&["config", "set", "trusted_ips=10.0.0.0/33"], 2);
    assert!(err.contains("10.0.0.0/33"), "{err}");
    assert_eq!(
        env.json(&["config", "show"])["lockout.denials"]["stored"],
        false
    );
    env.ok(&[
        "config",
        "set",
        "lockout.denials=3",
        "lockout.unblock_minutes=0",
        "trusted_ips=10.0.0.0/8, 2001:db8::/32",
    ]);
    let v = env.json(&["config", "show"]);
    assert_eq!(v["lockout.denials"]["value"], "3");
    assert_eq!(
        v["trusted_ips"],
        serde_json::json!(["10.0.0.0/8", "2001:db8::/32"])
    );
    // One transaction: a call whose last item is invalid changes neither
    // the settings nor the ranges given before it.
    let err = env.fails(
        &[
            "config",
            "set",
            "trusted_ips=192.0.2.0/24",
            "lockout.denials=4",
            "lockout.hard_cap=101",
        ],
        2,
    );
    assert!(err.contains("lockout.hard_cap"), "{err}");
    let after = env.json(&["config", "show"]);
    assert_eq!(after, v);
    // The stored policy is the one verification applies: three denials lock
    // until an administrator unblocks.
    env.ok(&[
        "import",
        &corpus("pskc/rfc6030/figure6.pskcxml"),
        "--psk",
        "12345678901234567890123456789012",
    ]);
    env.ok(&["tokens", "assign", "987654321", "helga"]);
    env.ok(&["tokens", "activate", "987654321", HOTP8[0]]);
    for _ in 0..3 {
        env.json_denied(&["verify", "helga", "00000000"]);
    }
    let v = env.json_denied(&["verify", "helga", HOTP8[1]]);
    assert_eq!(v["reason"], "locked_until_admin", "{v}");
    // Back to the default with an empty value.
    env.ok(&["config", "set", "lockout.denials="]);
    assert_eq!(
        env.json(&["config", "show"])["lockout.denials"]["value"],
        "10"
    );
}

#[test]
fn config_sqlite() {
    config(&Env::sqlite());
}

#[test]
fn config_postgres() {
    if let Some(env) = Env::postgres("config") {
        config(&env);
    }
}

#[test]
fn export_then_import_moves_the_tokens() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    env.ok(&[
        "import",
        &corpus("pskc/rfc6030/figure6.pskcxml"),
        "--psk",
        "12345678901234567890123456789012",
    ]);
    std::fs::write(env.path("pass.txt"), "qwerty\n").unwrap();
    env.ok(&[
        "import",
        &corpus("pskc-generated/pbkdf2-fig7params.pskcxml"),
        "--passphrase-file",
        "pass.txt",
    ]);
    env.ok(&["tokens", "assign", "987654321", "helga"]);
    env.ok(&["tokens", "activate", "987654321", HOTP8[0]]);
    env.ok(&["verify", "helga", HOTP8[1]]);

    // Secrets never leave unprotected unless asked for.
    let err = env.fails(&["tokens", "export", "out.pskcxml"], 2);
    assert!(err.contains("--plain"), "{err}");
    assert!(!env.path("out.pskcxml").exists());
    std::fs::write(env.path("export-pass.txt"), "correct horse battery\n").unwrap();
    let v = env.json(&[
        "tokens",
        "export",
        "out.pskcxml",
        "--passphrase-file",
        "export-pass.txt",
    ]);
    assert_eq!(v["exported"], 3);
    let xml = std::fs::read_to_string(env.path("out.pskcxml")).unwrap();
    assert!(
        xml.contains("EncryptedValue") && !xml.contains("PlainValue>MTIz"),
        "secrets must be encrypted"
    );
    // Never over an existing file.
    env.fails(
        &[
            "tokens",
            "export",
            "out.pskcxml",
            "--passphrase-file",
            "export-pass.txt",
        ],
        2,
    );

    // Into a fresh store: the wrong passphrase imports nothing, the right one all.
    let other = Env::sqlite();
    other.ok(&["init"]);
    let file = env.path("out.pskcxml").display().to_string();
    std::fs::write(other.path("wrong.txt"), "qwerty\n").unwrap();
    other.fails(&["import", &file, "--passphrase-file", "wrong.txt"], 2);
    std::fs::write(other.path("right.txt"), "correct horse battery\n").unwrap();
    let v = other.json(&["import", &file, "--passphrase-file", "right.txt"]);
    assert_eq!(v["imported"], 3, "{v}");
    let a = env.json(&["tokens", "list"]);
    let b = other.json(&["tokens", "list"]);
    let key = |t: &serde_json::Value| (t["serial"].clone(), t["kind"].clone(), t["params"].clone());
    let ka: Vec<_> = a.as_array().unwrap().iter().map(key).collect();
    let kb: Vec<_> = b.as_array().unwrap().iter().map(key).collect();
    assert_eq!(ka, kb);
    // The HOTP token continues after the last counter used: its old codes
    // are refused, its next one is accepted once activated.
    let fig6 = b
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == "987654321")
        .unwrap();
    assert_eq!(fig6["last_step"], 1, "{fig6}");
    other.ok(&["tokens", "assign", "987654321", "helga"]);
    other.fails(&["tokens", "activate", "987654321", HOTP8[1]], 2);
    other.ok(&["tokens", "activate", "987654321", HOTP8[2]]);
}

#[test]
fn app_passwords_are_shown_once_and_deleted_together() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    env.ok(&["users", "add", "helga"]);
    let a = env.json(&["users", "add-app-password", "helga", "mail"]);
    let b = env.json(&["users", "add-app-password", "helga", "calendar"]);
    let pa = a["password"].as_str().unwrap();
    assert_eq!(pa.len(), 26, "{pa}"); // 128 random bits in base32
    assert_ne!(pa, b["password"].as_str().unwrap());
    env.fails(&["users", "add-app-password", "helga", "mail"], 2);
    // A real sign-in path: approved, from standard input too, and denied
    // (exit 1) for a wrong one; both are in the log.
    let v = env.json(&["verify", "helga", pa, "--method", "app-password"]);
    assert_eq!(v["result"], "approved");
    assert_eq!(v["by"], "app_password");
    let o = env
        .mfa()
        .args(["verify", "helga", "-", "--method", "app-password"])
        .write_stdin(format!("{pa}\n"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("approved (app password \"mail\")"));
    let err = env.fails(
        &[
            "verify",
            "helga",
            "aaaaaaaaaaaaaaaaaaaaaaaaaa",
            "--method",
            "app-password",
        ],
        1,
    );
    assert!(err.contains("denied"), "{err}");
    assert!(!err.contains(pa));
    // An SMS code the user was never sent is a denial, not an error.
    env.fails(&["verify", "helga", "123456", "--method", "sms"], 1);
    let report = env.ok(&["report", "auth", "--since", "2020-01-01"]);
    assert_eq!(report.matches("AppPassword").count(), 3, "{report}");
    let shown = env.ok(&["users", "show", "helga"]);
    assert!(
        shown.contains("mail (created") && shown.contains("calendar (created"),
        "{shown}"
    );
    assert!(!shown.contains(pa), "the password is never shown again");
    let v = env.json(&[
        "users",
        "delete-app-passwords",
        "helga",
        "--reason",
        "phone lost",
    ]);
    assert_eq!(v["deleted"], 2);
    let v = env.json(&["users", "show", "helga"]);
    assert_eq!(v["app_passwords"], serde_json::json!([]));
    env.fails(&["users", "delete-app-passwords", "nobody"], 2);
}
