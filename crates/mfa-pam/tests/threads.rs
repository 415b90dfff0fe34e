//! The module runs inside sshd and sudo: after a sign-in no thread (the
//! PostgreSQL client's runtime included) may be left in the process.
//! The sign-in runs in process through the `Pam` trait; threads are counted
//! in /proc/self/task. One test in this binary, so libtest runs no other
//! thread beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use pam_mfa::{Code, Config, Level, MessageKind, Pam, sign_in};
use zeroize::Zeroizing;

struct Scripted {
    user: String,
    answer: String,
    messages: Vec<String>,
}

impl Pam for Scripted {
    fn user(&mut self) -> Result<String, Code> {
        Ok(self.user.clone())
    }
    fn rhost(&self) -> Option<String> {
        Some("192.0.2.7".into())
    }
    fn authtok(&self) -> Option<Zeroizing<String>> {
        None
    }
    fn set_authtok(&mut self, _: &str) -> Result<(), Code> {
        Ok(())
    }
    fn prompt_hidden(&mut self, _: &str) -> Result<Option<Zeroizing<String>>, Code> {
        Ok(Some(Zeroizing::new(self.answer.clone())))
    }
    fn message(&mut self, _: MessageKind, text: &str) {
        self.messages.push(text.to_owned());
    }
    fn log(&mut self, _: Level, _: &str) {}
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn config(db: &str, f: &Fixture) -> Config {
    let db = format!("db={db}");
    let key = format!("key_file={}", f.key_file.display());
    Config::parse([db.as_bytes(), key.as_bytes(), b"timeout=5"]).unwrap()
}

#[test]
fn no_thread_is_left_after_a_sign_in_on_sqlite_or_postgres() {
    let f = Fixture::new();
    f.user_with_token("alice");
    let before = threads();
    let sqlite = config(&format!("sqlite:{}", f.db.display()), &f);
    for (answer, want) in [(code(1), Code::Success), (code(1), Code::AuthErr)] {
        let mut pam = Scripted {
            user: "alice".into(),
            answer,
            messages: Vec::new(),
        };
        assert_eq!(sign_in(&mut pam, &sqlite, now()), want);
        assert_eq!(threads(), before, "SQLite left a thread");
    }
    // The client address reached the log.
    let t = now().secs();
    let log = f
        .store
        .auth_log(
            pam_mfa::UnixTime::from_secs(t - 600),
            pam_mfa::UnixTime::from_secs(t + 600),
        )
        .unwrap();
    assert_eq!(
        log.last().unwrap().client_ip(),
        Some("192.0.2.7".parse().unwrap())
    );

    let Ok(base) = std::env::var("MFA_TEST_POSTGRES_URL") else {
        mfa_test_support::skip!("MFA_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("pam_threads_{}", std::process::id());
    let mut admin = mfa_store::connect_postgres(&base).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    {
        let key = mfa_store::MasterKey::new(1, [0xa5; 32]);
        let pg = mfa_store::Store::open(&url, &key).unwrap();
        let t0 = now();
        let token = mfa_store::NewToken::new(
            "H-pg",
            mfa_store::TokenKind::Hotp(Default::default()),
            mfa_store::mfa_oath::Secret::from_bytes(SECRET).unwrap(),
        );
        pg.import([token], mfa_store::ImportMode::AllOrNothing, t0)
            .unwrap();
        pg.assign("H-pg", "alice", t0).unwrap();
        pg.activate("H-pg", &code(0), t0).unwrap();
    }
    let before = threads();
    let postgres = config(&url, &f);
    for (answer, want) in [(code(1), Code::Success), (code(1), Code::AuthErr)] {
        let mut pam = Scripted {
            user: "alice".into(),
            answer,
            messages: Vec::new(),
        };
        assert_eq!(sign_in(&mut pam, &postgres, now()), want);
        assert_eq!(threads(), before, "PostgreSQL left a thread");
    }
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
