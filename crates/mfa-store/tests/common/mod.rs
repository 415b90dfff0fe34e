//! Test harness: one behavioural suite, run against SQLite and PostgreSQL.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::panic
)]

use mfa_oath::{Hotp, HotpParams, Secret, Totp, TotpParams, UnixTime};
use mfa_store::{ImportMode, MasterKey, NewToken, Store, StoreConfig, TokenKind, VerifyContext};

/// A database to run a test against. SQLite: a fresh file in a temporary
/// directory. PostgreSQL: a fresh schema in the database named by
/// `MFA_TEST_POSTGRES_URL`, dropped afterwards.
pub struct Backend {
    pub url: String,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        Backend {
            url: format!("sqlite:{}", dir.path().join("mfa.db").display()),
            name: "sqlite",
            _dir: Some(dir),
            pg: None,
        }
    }

    /// `None` (after a loud SKIPPED line) when no PostgreSQL is configured.
    pub fn postgres(test: &str) -> Option<Backend> {
        let Ok(base) = std::env::var("MFA_TEST_POSTGRES_URL") else {
            // A loud SKIPPED line past libtest's capture (a failure under
            // CI=true); .ci/test counts the test as skipped, not passed.
            mfa_test_support::skip!("{test} on PostgreSQL: MFA_TEST_POSTGRES_URL is not set");
            return None;
        };
        let schema = format!(
            "t_{}_{}_{}",
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        )
        .to_lowercase();
        let mut c = pg_client(&base);
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Backend {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            name: "postgres",
            _dir: None,
            pg: Some((base, schema)),
        })
    }

    pub fn open(&self) -> Store {
        Store::open(&self.url, &key()).unwrap()
    }

    pub fn open_with(&self, config: StoreConfig) -> Store {
        Store::open_with(&self.url, &key(), config).unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg
            && let Ok(mut c) = mfa_store::connect_postgres(base)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// A direct connection to the test database (as an operator or attacker
/// with database access would have), outside the store.
pub fn pg_client(url: &str) -> postgres::Client {
    // Connected as the store connects (sslmode, sslrootcert), so plain SQL
    // goes over the same verified TLS as the tests.
    mfa_store::connect_postgres(url)
        .unwrap_or_else(|e| panic!("connect to MFA_TEST_POSTGRES_URL: {e}"))
}

/// Runs `sql` on the backend's database directly, as an operator or an
/// attacker with database access (and no master key) would.
pub fn sql(b: &Backend, sql: &str) {
    match b.url.strip_prefix("sqlite:") {
        Some(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
        None => pg_client(&b.url).batch_execute(sql).unwrap(),
    }
}

/// Runs each named test function `fn(&Backend)` on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&$crate::common::Backend::sqlite()); } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if let Some(b) = $crate::common::Backend::postgres(stringify!($name)) {
                    super::$name(&b);
                }
            } )*
        }
    };
}

pub fn key() -> MasterKey {
    MasterKey::new(1, [0x5a; 32])
}

pub const T0: u64 = 1_700_000_000;

pub fn at(s: u64) -> UnixTime {
    UnixTime::from_secs(s)
}

pub fn secret(i: u32) -> Secret {
    let mut b = *b"12345678901234567890";
    b[..4].copy_from_slice(&i.to_be_bytes());
    Secret::from_bytes(&b).unwrap()
}

pub fn totp(i: u32) -> Totp {
    Totp::new(secret(i), TotpParams::default())
}

pub fn hotp(i: u32) -> Hotp {
    Hotp::new(secret(i), HotpParams::default())
}

pub fn totp_token(serial: &str, i: u32) -> NewToken {
    NewToken::new(serial, TokenKind::Totp(TotpParams::default()), secret(i))
}

pub fn code_at(i: u32, t: u64) -> String {
    totp(i).generate(at(t)).unwrap().to_string()
}

/// Imports TOTP token `serial` (secret `i`), assigns it to `user` and
/// activates it at T0. Returns the time to use next (one step later).
pub fn enrol(store: &Store, user: &str, serial: &str, i: u32) -> u64 {
    store
        .import([totp_token(serial, i)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    store.assign(serial, user, at(T0)).unwrap();
    store.activate(serial, &code_at(i, T0), at(T0)).unwrap();
    T0 + 30
}

/// A code of the right length that token `i` does not show at `t` nor in
/// the step before.
pub fn wrong_code(i: u32, t: u64) -> String {
    let good = [code_at(i, t), code_at(i, t - 30)];
    (0..1000u32)
        .map(|n| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| !good.contains(c))
        .unwrap()
}

/// The server context used by the tests.
pub fn ctx() -> VerifyContext {
    VerifyContext::new("mfa-1", "10.0.0.1".parse().unwrap())
        .unwrap()
        .with_client("192.0.2.7".parse().unwrap())
}

/// A store configuration whose OTP lockout policy is `threshold` denials,
/// `reset` seconds reset window and `unblock` seconds automatic unblock.
pub fn otp_lockout(threshold: u32, reset: u64, unblock: u64) -> StoreConfig {
    let mut c = StoreConfig::default();
    c.lockout = mfa_lockout::Policies::default().with(
        mfa_lockout::FactorClass::Otp,
        mfa_lockout::Policy::new(threshold, reset, unblock).unwrap(),
    );
    c
}

/// Runs `f(i)` on `n` threads released together; returns the results.
pub fn race<T: Send + 'static>(n: usize, f: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let f = std::sync::Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, f) = (barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}
