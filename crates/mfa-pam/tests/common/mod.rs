//! Test harness: a store in a temporary directory made with the mfa-store
//! API, service files for pam_wrapper, and pamtester runs.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mfa_store::mfa_oath::{Hotp, HotpParams, Secret, UnixTime};
use mfa_store::{
    AuthRequest, ImportMode, MasterKey, NewToken, Presented, Store, TokenKind, UserProfile,
    VerifyContext,
};

/// The RFC 4226 test secret; its codes for counters 0..=9 are in the RFC.
pub const SECRET: &[u8] = b"12345678901234567890";
pub const SECRET_HEX: &str = "3132333435363738393031323334353637383930";

/// Where Debian puts pam_wrapper and its modules.
pub const WRAPPER_LIB: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
pub const WRAPPER_MODULES: &str = "/usr/lib/x86_64-linux-gnu/pam_wrapper";
pub const PAM_OATH: &str = "/lib/x86_64-linux-gnu/security/pam_oath.so";

/// Serializes pam_wrapper runs within a test binary.
pub static PAM_WRAPPER_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// The installed tools, or `None` after a SKIPPED line (`mfa_test_support::skip!`).
pub struct Tools {
    pub pamtester: PathBuf,
}

impl Tools {
    pub fn find(extra: &[&str]) -> Option<Tools> {
        let Some(pamtester) = on_path("pamtester") else {
            mfa_test_support::skip!("pamtester is not installed (apt-get install pamtester)");
            return None;
        };
        let mut need = vec![
            WRAPPER_LIB.to_owned(),
            format!("{WRAPPER_MODULES}/pam_matrix.so"),
        ];
        need.extend(extra.iter().map(|s| (*s).to_owned()));
        for path in need {
            if !Path::new(&path).exists() {
                mfa_test_support::skip!("{path} is missing (libpam-wrapper, libpam-oath)");
                return None;
            }
        }
        Some(Tools { pamtester })
    }
}

/// The module under test: `libpam_mfa.so`, which cargo builds for the
/// tests into target/debug/deps, next to the test binary (target/debug has
/// it only after a `cargo build`, and may hold an older one).
pub fn module() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let p = dir.join("libpam_mfa.so");
        if p.is_file() {
            return p;
        }
    }
    panic!("libpam_mfa.so not found near {}", exe.display());
}

pub fn now() -> UnixTime {
    UnixTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

pub fn hotp() -> Hotp {
    Hotp::new(Secret::from_bytes(SECRET).unwrap(), HotpParams::default())
}

pub fn code(counter: u64) -> String {
    hotp().generate(counter).to_string()
}

/// A store in a temporary directory, its key file, and service files.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub key_file: PathBuf,
    pub store: Store,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mfa.db");
        let key_file = dir.path().join("master.key");
        std::fs::write(&key_file, format!("1:{}\n", "a5".repeat(32))).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let key = MasterKey::new(1, [0xa5; 32]);
        let store = Store::open(&format!("sqlite:{}", db.display()), &key).unwrap();
        std::fs::create_dir(dir.path().join("services")).unwrap();
        Fixture {
            dir,
            db,
            key_file,
            store,
        }
    }

    /// `db=… key_file=…` for a service line.
    pub fn args(&self) -> String {
        format!(
            "db=sqlite:{} key_file={}",
            self.db.display(),
            self.key_file.display()
        )
    }

    /// A user with an HOTP token (the RFC secret), activated with the
    /// counter 0 code: counter 1 is the next code.
    pub fn user_with_token(&self, user: &str) {
        let t = now();
        let serial = format!("H-{user}");
        let token = NewToken::new(
            serial.as_str(),
            TokenKind::Hotp(HotpParams::default()),
            Secret::from_bytes(SECRET).unwrap(),
        );
        self.store
            .import([token], ImportMode::AllOrNothing, t)
            .unwrap();
        self.store.assign(&serial, user, t).unwrap();
        self.store.activate(&serial, &code(0), t).unwrap();
    }

    /// A user the store knows, without any token.
    pub fn user_without_token(&self, user: &str) {
        self.store.put_user(&UserProfile::new(user), now()).unwrap();
    }

    /// Wrong codes until the store locks `user` out.
    pub fn lock_out(&self, user: &str) {
        let ctx = ctx();
        for _ in 0..50 {
            let req = AuthRequest::new(user, Presented::OathCode("000000"));
            let out = self.store.authenticate(&req, now(), &ctx).unwrap();
            if matches!(
                out.denial(),
                Some(mfa_store::mfa_record::DenialReason::Locked { .. })
            ) {
                return;
            }
        }
        panic!("{user} was not locked after 50 wrong codes");
    }

    pub fn block(&self, user: &str) {
        self.store
            .fraud_block(user, "test", "test block", now(), &ctx())
            .unwrap();
    }

    /// Writes the pam_wrapper service file `name`.
    pub fn service(&self, name: &str, lines: &[String]) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(self.dir.path().join("services").join(name), text).unwrap();
    }

    /// `auth required <module> <args> <extra>` and a matching account line.
    pub fn our_line(&self, extra: &str) -> String {
        format!(
            "auth required {} {} {extra}",
            module().display(),
            self.args()
        )
    }

    /// Runs pamtester for `service` and `user`, feeding `stdin`.
    pub fn pamtester(&self, tools: &Tools, service: &str, user: &str, stdin: &str) -> Outcome {
        self.pamtester_env(tools, service, user, stdin, &[], None)
    }

    /// pamtester with PAM items set (`-I rhost=192.0.2.7`).
    pub fn pamtester_items(
        &self,
        tools: &Tools,
        service: &str,
        user: &str,
        stdin: &str,
        items: &[&str],
    ) -> Outcome {
        self.run_pamtester(tools, service, user, stdin, &[], None, items)
    }

    pub fn pamtester_env(
        &self,
        tools: &Tools,
        service: &str,
        user: &str,
        stdin: &str,
        env: &[(&str, &str)],
        wrap: Option<&[&str]>,
    ) -> Outcome {
        self.run_pamtester(tools, service, user, stdin, env, wrap, &[])
    }

    #[allow(clippy::too_many_arguments)]
    fn run_pamtester(
        &self,
        tools: &Tools,
        service: &str,
        user: &str,
        stdin: &str,
        env: &[(&str, &str)],
        wrap: Option<&[&str]>,
        items: &[&str],
    ) -> Outcome {
        let mut cmd = match wrap {
            Some(prefix) => {
                let mut c = Command::new(prefix[0]);
                c.args(&prefix[1..]).arg(&tools.pamtester);
                c
            }
            None => Command::new(&tools.pamtester),
        };
        for item in items {
            cmd.args(["-I", item]);
        }
        cmd.args(["-v", service, user, "authenticate"])
            .env("LD_PRELOAD", WRAPPER_LIB)
            .env("PAM_WRAPPER", "1")
            .env("PAM_WRAPPER_SERVICE_DIR", self.dir.path().join("services"))
            .env("PAM_WRAPPER_DISABLE_DEEPBIND", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // pam_wrapper copies the service directory to /tmp/pam.<letter> and
        // removes such directories it takes for stale (no pid file yet):
        // two runs at once can remove each other's copy. One at a time.
        let _one = PAM_WRAPPER_RUN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Outcome {
            ok: out.status.success(),
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

pub fn ctx() -> VerifyContext {
    VerifyContext::new("test", "127.0.0.1".parse().unwrap()).unwrap()
}

/// What pamtester said.
#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    pub text: String,
}

/// pam_strerror texts of the codes the module gives.
pub const AUTH_ERR: &str = "Authentication failure";
pub const USER_UNKNOWN: &str = "User not known to the underlying authentication module";
pub const MAXTRIES: &str = "Have exhausted maximum number of retries for service";
pub const AUTHINFO_UNAVAIL: &str = "Authentication service cannot retrieve authentication info";
pub const SERVICE_ERR: &str = "Error in service module";

impl Outcome {
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            self.ok && self.text.contains("successfully authenticated"),
            "{}",
            self.text
        );
    }

    #[track_caller]
    pub fn assert_failure(&self, pam_text: &str) {
        assert!(!self.ok, "unexpected success: {}", self.text);
        assert!(
            self.text.contains(&format!("pamtester: {pam_text}")),
            "wanted {pam_text:?}, got: {}",
            self.text
        );
    }
}
