//! Delivery through the real `mfa` binary against real servers on
//! 127.0.0.1 that nobody here wrote: aiosmtpd (SMTP, with authentication
//! and a refused recipient) and Python's http.server (the SMS webhook
//! sink), both run through mfa-notify's helpers in
//! crates/mfa-notify/tests/py. Without a Python that has aiosmtpd the SMTP
//! tests print `SKIPPED: …` (under `CI=true` they fail instead); the Python
//! is `MFA_TEST_PYTHON`, else the workspace's `.venv/bin/python`, else
//! `python3`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const SMTP_PASSWORD: &str = "s3cret-smtp-pw-7741";
const WEBHOOK_TOKEN: &str = "gw-token-0c4f19";

// ---------------------------------------------------------------- harness

/// A Python that can import `modules`, or `None` after SKIPPED.
fn python(modules: &[&str]) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates: Vec<PathBuf> = match std::env::var_os("MFA_TEST_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![root.join(".venv/bin/python"), PathBuf::from("python3")],
    };
    let import = match modules {
        [] => "pass".to_owned(),
        m => format!("import {}", m.join(", ")),
    };
    for py in &candidates {
        let ok = std::process::Command::new(py)
            .args(["-c", &import])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py.clone());
        }
    }
    mfa_test_support::skip!(
        "no Python with {modules:?} (tried {candidates:?}; set MFA_TEST_PYTHON)"
    );
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One of mfa-notify's helper servers; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    record: PathBuf,
}

impl Server {
    fn start(python: &Path, script: &str, dir: &Path, args: &[&str]) -> Server {
        let port = free_port();
        let record = dir.join(format!("{script}.{port}.jsonl"));
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mfa-notify/tests/py")
            .join(script);
        let mut child = std::process::Command::new(python)
            .arg(path)
            .args(["--port", &port.to_string(), "--record"])
            .arg(&record)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join(format!("{script}.{port}.stderr"))).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        if line.trim() != "READY" {
            let _ = child.kill();
            panic!("{script} did not start (said {line:?})");
        }
        Server {
            child,
            port,
            record,
        }
    }

    /// The records once at least `n` are there (at most 5 s).
    fn wait_records(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r: Vec<Value> = std::fs::read_to_string(&self.record)
                .map(|t| {
                    t.lines()
                        .map(|l| serde_json::from_str(l).unwrap())
                        .collect()
                })
                .unwrap_or_default();
            if r.len() >= n || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh store and key in a temporary directory.
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
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    }

    /// Runs, expects `status`, returns (stdout, stderr).
    fn status(&self, status: i32, args: &[&str]) -> (String, String) {
        let o = self.run(args);
        let (out, err) = (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        );
        assert_eq!(
            o.status.code(),
            Some(status),
            "mfa {args:?}\nstdout: {out}\nstderr: {err}"
        );
        (out, err)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.status(0, args).0
    }

    fn json(&self, status: i32, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.status(status, &args).0).unwrap()
    }

    /// `mfa config set` of an SMTP relay on 127.0.0.1:`port` with
    /// authentication (the password in a 0600 file), plus `extra`.
    fn smtp(&self, port: u16, extra: &[&str]) {
        let pw = self.path("smtp.pw");
        std::fs::write(&pw, format!("{SMTP_PASSWORD}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut args = vec![
            "config".to_owned(),
            "set".to_owned(),
            "notify.smtp.host=127.0.0.1".to_owned(),
            format!("notify.smtp.port={port}"),
            "notify.smtp.tls=none".to_owned(),
            "notify.smtp.user=mfa".to_owned(),
            format!("notify.smtp.password_file={}", pw.display()),
            "notify.smtp.from=mfa@example.com".to_owned(),
            "notify.timeout_seconds=5".to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args);
    }

    /// Everything a secret could leak into: the store file, the key file.
    fn master_key_hex(&self) -> String {
        let text = std::fs::read_to_string(self.path("mfa.key")).unwrap();
        text.trim().split_once(':').unwrap().1.to_owned()
    }
}

fn smtp_server(dir: &Env, extra: &[&str]) -> Option<Server> {
    let py = python(&["aiosmtpd"])?;
    let pw = dir.path("server.pw");
    std::fs::write(&pw, format!("{SMTP_PASSWORD}\n")).unwrap();
    let mut args = vec!["--auth", "mfa", pw.to_str().unwrap()];
    args.extend_from_slice(extra);
    Some(Server::start(&py, "smtp_server.py", dir.dir.path(), &args))
}

// ------------------------------------------------------------------ tests

#[test]
fn fraud_report_e_mails_arrive_with_the_right_recipients_and_no_secret() {
    let env = Env::new();
    let Some(server) = smtp_server(&env, &[]) else {
        return;
    };
    env.smtp(
        server.port,
        &[
            "notify.fraud_emails=secops@example.com, it@example.com",
            "notify.fraud_user_email=on",
        ],
    );
    env.ok(&["users", "add", "helga", "--email", "helga@example.com"]);
    // A token with a known secret, so the e-mails can be searched for it.
    let secret = "2234567abcdef2234567abcdef";
    std::fs::write(
        env.path("upload.csv"),
        format!(
            "upn,serial number,secret key,time interval,manufacturer,model\n\
             helga,C-1,{secret},30,Contoso,HardwareKey\n"
        ),
    )
    .unwrap();
    env.ok(&["import", "upload.csv"]);

    let (out, err) = env.status(0, &["fraud", "report", "helga", "--channel", "app"]);
    assert!(err.is_empty(), "{err}");
    for line in [
        "e-mail to secops@example.com (administrator): delivered",
        "e-mail to it@example.com (administrator): delivered",
        "e-mail to helga@example.com (user): delivered",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    let mails = server.wait_records(3);
    assert_eq!(mails.len(), 3, "{mails:?}");
    // One e-mail per recipient: nobody sees the others' addresses.
    let rcpts: Vec<&Value> = mails.iter().map(|m| &m["rcpt_tos"]).collect();
    assert_eq!(
        rcpts,
        [
            &serde_json::json!(["secops@example.com"]),
            &serde_json::json!(["it@example.com"]),
            &serde_json::json!(["helga@example.com"]),
        ]
    );
    for m in &mails[..2] {
        assert_eq!(m["subject"], "MFA fraud alert: helga");
        assert_eq!(m["from"], "mfa@example.com");
        let body = m["body"].as_str().unwrap();
        assert!(body.contains("User helga reported"), "{body}");
        assert!(body.contains("The account is blocked."), "{body}");
    }
    assert_eq!(mails[2]["subject"], "Your multi-factor sign-in is blocked");
    let key = env.master_key_hex();
    for m in &mails {
        assert_eq!(m["authenticated"], true, "the relay required AUTH");
        let data = m["data"].as_str().unwrap();
        for secret_text in [SMTP_PASSWORD, secret, &key, "mfa.key"] {
            assert!(!data.contains(secret_text), "{secret_text} in {data}");
        }
    }
    // The user is blocked; the password is in no output.
    assert!(
        env.ok(&["fraud", "status", "helga"])
            .contains("blocked until")
    );
    let shown = env.ok(&["config", "show"]);
    for text in [&out, &shown] {
        assert!(!text.contains(SMTP_PASSWORD));
    }
    assert!(shown.contains("notify.smtp.password_file"), "{shown}");

    // --json: the outcome per recipient.
    env.ok(&["users", "add", "ingrid", "--email", "ingrid@example.com"]);
    let v = env.json(0, &["fraud", "report", "ingrid", "--channel", "app"]);
    assert_eq!(v["reported"], true);
    assert_eq!(
        v["delivery"]["administrators"],
        serde_json::json!([
            {"address": "secops@example.com", "delivered": true, "error": null},
            {"address": "it@example.com", "delivered": true, "error": null},
        ])
    );
    assert_eq!(
        v["delivery"]["user"],
        serde_json::json!({"address": "ingrid@example.com", "delivered": true, "error": null})
    );
    assert_eq!(server.wait_records(6).len(), 6);
}

#[test]
fn a_refused_recipient_is_shown_and_the_exit_status_is_1() {
    let env = Env::new();
    let Some(server) = smtp_server(&env, &["--refuse", "gone@example.com"]) else {
        return;
    };
    env.smtp(
        server.port,
        &["notify.fraud_emails=gone@example.com,secops@example.com"],
    );
    env.ok(&["users", "add", "helga"]);
    let (out, err) = env.status(1, &["fraud", "report", "helga"]);
    assert!(
        out.contains("e-mail to gone@example.com (administrator): not delivered: smtp: gone@example.com: refused with 550"),
        "{out}"
    );
    assert!(
        out.contains("e-mail to secops@example.com (administrator): delivered"),
        "{out}"
    );
    assert_eq!(
        err.trim(),
        "mfa: fraud report recorded, but 1 notification e-mail(s) not delivered"
    );
    // The refusal did not stop the other recipient, nor the report.
    let mails = server.wait_records(1);
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0]["rcpt_tos"],
        serde_json::json!(["secops@example.com"])
    );
    assert!(
        env.ok(&["fraud", "status", "helga"])
            .contains("blocked until")
    );

    env.ok(&["users", "add", "ingrid"]);
    let v = env.json(1, &["fraud", "report", "ingrid"]);
    let admins = v["delivery"]["administrators"].as_array().unwrap();
    assert_eq!(admins[0]["address"], "gone@example.com");
    assert_eq!(admins[0]["delivered"], false);
    assert!(admins[0]["error"].as_str().unwrap().contains("550"));
    assert_eq!(admins[1]["delivered"], true);
}

#[test]
fn notify_test_email_is_delivered_and_fails_clearly_with_the_server_down() {
    let env = Env::new();
    let Some(server) = smtp_server(&env, &[]) else {
        return;
    };
    env.smtp(server.port, &["notify.retries=0"]);
    let out = env.ok(&["notify", "test", "--email", "it@example.com"]);
    assert_eq!(out.trim(), "test email to it@example.com: delivered");
    let mails = server.wait_records(1);
    assert_eq!(mails[0]["subject"], "MFA notification test");
    assert_eq!(mails[0]["rcpt_tos"], serde_json::json!(["it@example.com"]));
    let v = env.json(0, &["notify", "test", "--email", "it@example.com"]);
    assert_eq!(
        v,
        serde_json::json!({"channel": "email", "to": "it@example.com", "delivered": true, "error": null})
    );

    drop(server);
    let (out, err) = env.status(1, &["notify", "test", "--email", "it@example.com"]);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.starts_with(
            "mfa: test email to it@example.com: not delivered: smtp: connection failed"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let v = env.json(1, &["notify", "test", "--email", "it@example.com"]);
    assert_eq!(v["delivered"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("smtp: connection failed")
    );

    // A fraud report with the server down: recorded, every recipient's
    // outcome printed, exit status 1.
    env.ok(&[
        "config",
        "set",
        "notify.fraud_emails=a@example.com,b@example.com",
    ]);
    env.ok(&["users", "add", "helga"]);
    let (out, _) = env.status(1, &["fraud", "report", "helga"]);
    assert!(
        out.contains(
            "e-mail to a@example.com (administrator): not delivered: smtp: connection failed"
        ),
        "{out}"
    );
    assert!(
        out.contains("e-mail to b@example.com (administrator): not delivered: smtp: not attempted"),
        "{out}"
    );
    assert!(
        env.ok(&["fraud", "status", "helga"])
            .contains("blocked until")
    );
}

#[test]
fn notify_test_sms_and_voice_reach_the_webhook_sink() {
    let Some(py) = python(&[]) else {
        return;
    };
    let env = Env::new();
    let sink = Server::start(&py, "webhook_sink.py", env.dir.path(), &[]);
    let token = env.path("gw.token");
    std::fs::write(&token, format!("{WEBHOOK_TOKEN}\n")).unwrap();
    env.ok(&[
        "config",
        "set",
        &format!("notify.sms.webhook_url=http://127.0.0.1:{}/sms", sink.port),
        &format!("notify.sms.webhook_token_file={}", token.display()),
        "notify.timeout_seconds=5",
    ]);
    let out = env.ok(&["notify", "test", "--sms", "+31 6 1234 5678"]);
    assert!(out.starts_with("test sms to "), "{out}");
    assert!(out.trim().ends_with("5678: delivered"), "{out}");
    assert!(!out.contains("1234"), "the number is masked: {out}");
    let v = env.json(0, &["notify", "test", "--voice", "+31612345678"]);
    assert_eq!(v["channel"], "voice");
    assert_eq!(v["delivered"], true);

    let posts = sink.wait_records(2);
    assert_eq!(posts.len(), 2, "{posts:?}");
    for (post, channel) in posts.iter().zip(["sms", "voice"]) {
        assert_eq!(post["path"], "/sms");
        assert_eq!(post["authorization"], format!("Bearer {WEBHOOK_TOKEN}"));
        let body: Value = serde_json::from_str(post["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["channel"], channel);
        assert_eq!(body["to"], "+31612345678");
        assert!(body["message"].as_str().unwrap().contains("test message"));
    }
    // The token is in no output.
    assert!(!env.ok(&["config", "show"]).contains(WEBHOOK_TOKEN));

    // A gateway answering 500: exit status 1 naming the status.
    let failing = Server::start(&py, "webhook_sink.py", env.dir.path(), &["--status", "500"]);
    env.ok(&[
        "config",
        "set",
        &format!(
            "notify.sms.webhook_url=http://127.0.0.1:{}/sms",
            failing.port
        ),
        "notify.retries=0",
    ]);
    let (_, err) = env.status(1, &["notify", "test", "--sms", "+31612345678"]);
    assert!(
        err.contains("not delivered: webhook: HTTP status 500"),
        "{err}"
    );
    assert_eq!(failing.wait_records(1).len(), 1);
}

#[test]
fn without_an_smtp_server_a_fraud_report_says_nobody_was_e_mailed() {
    let env = Env::new();
    env.ok(&["users", "add", "helga"]);
    let (out, err) = env.status(0, &["fraud", "report", "helga"]);
    assert!(
        out.contains(
            "no notification e-mail sent: no SMTP server is configured (notify.smtp.host)"
        ),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");
    env.ok(&["users", "add", "ingrid"]);
    let v = env.json(0, &["fraud", "report", "ingrid"]);
    assert_eq!(v["delivery"], Value::Null);
    assert!(
        v["delivery_note"]
            .as_str()
            .unwrap()
            .contains("no SMTP server")
    );
    // Nothing to test with either: bad configuration, exit status 2.
    let (_, err) = env.status(2, &["notify", "test", "--email", "it@example.com"]);
    assert!(
        err.contains("no SMTP server (notify.smtp.host) is configured"),
        "{err}"
    );
    let (_, err) = env.status(2, &["notify", "test", "--sms", "+31612345678"]);
    assert!(err.contains("no SMS/voice gateway"), "{err}");
    let (_, err) = env.status(2, &["notify", "test", "--sms", "not a number"]);
    assert_eq!(err.lines().count(), 1, "{err}");

    // Unusable settings (the password file is missing): the report is
    // still recorded, nobody is e-mailed, the output says why, exit 1.
    env.ok(&[
        "config",
        "set",
        "notify.smtp.host=127.0.0.1",
        "notify.smtp.from=mfa@example.com",
        "notify.smtp.tls=none",
        "notify.smtp.user=mfa",
        "notify.smtp.password_file=/nonexistent/smtp.pw",
        "notify.fraud_emails=secops@example.com",
    ]);
    env.ok(&["users", "add", "jonas"]);
    let (out, err) = env.status(1, &["fraud", "report", "jonas"]);
    assert!(
        out.contains("no notification e-mail sent: notify settings: notify.smtp.password_file: cannot use /nonexistent/smtp.pw"),
        "{out}"
    );
    assert!(
        err.starts_with("mfa: fraud report recorded, but nobody was e-mailed: "),
        "{err}"
    );
    assert!(
        env.ok(&["fraud", "status", "jonas"])
            .contains("blocked until")
    );
    let (_, err) = env.status(2, &["notify", "test", "--email", "it@example.com"]);
    assert!(err.contains("notify.smtp.password_file"), "{err}");
}

#[test]
fn config_set_checks_notify_settings_and_stores_them_with_the_others() {
    let env = Env::new();
    // Each refusal is one line, exit status 2, and nothing of the call is
    // stored (the valid lockout setting before it included).
    for (pair, says) in [
        (
            "notify.smtp.tls=ssl",
            "notify.smtp.tls: expected starttls, tls or none",
        ),
        (
            "notify.smtp.password=hunter2",
            "unknown setting notify.smtp.password",
        ),
        (
            "notify.fraud_emails=a@example.com,nope",
            "notify.fraud_emails: invalid e-mail address \"nope\"",
        ),
        ("notify.template.sms=no code", "notify.template.sms"),
        ("notify.no_such=1", "unknown setting notify.no_such"),
    ] {
        let (_, err) = env.status(2, &["config", "set", "lockout.denials=4", pair]);
        assert_eq!(err.lines().count(), 1, "{pair}: {err}");
        assert!(err.contains(says), "{pair}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let v = env.json(0, &["config", "show"]);
    assert_eq!(v["lockout.denials"]["stored"], false);
    assert_eq!(v["notify.smtp.tls"]["stored"], false);

    // Accepted: stored with the store's own settings in one call.
    let (_, err) = env.status(
        0,
        &[
            "config",
            "set",
            "lockout.denials=4",
            "notify.smtp.host=smtp.example.com",
        ],
    );
    // Valid alone, but a sender is still missing: said, not refused.
    assert!(
        err.contains("warning: the notify settings do not fit together yet: notify.smtp.from"),
        "{err}"
    );
    let (_, err) = env.status(
        0,
        &[
            "config",
            "set",
            "notify.smtp.from=mfa@example.com",
            "notify.template.fraud_subject=Fraud: {user}",
        ],
    );
    assert!(err.is_empty(), "{err}");
    let v = env.json(0, &["config", "show"]);
    assert_eq!(v["lockout.denials"]["value"], "4");
    assert_eq!(
        v["notify.smtp.host"],
        serde_json::json!({"value": "smtp.example.com", "stored": true, "default": "",
            "description": "SMTP server (empty: no e-mail)"})
    );
    assert_eq!(v["notify.smtp.tls"]["value"], "starttls");
    assert_eq!(v["notify.smtp.tls"]["stored"], false);
    assert_eq!(v["notify.template.fraud_subject"]["value"], "Fraud: {user}");
    let text = env.ok(&["config", "show"]);
    assert!(
        text.lines().any(|l| l.starts_with("notify.smtp.host")
            && l.contains("smtp.example.com")
            && !l.ends_with("(default)")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("notify.smtp.tls") && l.ends_with("(default)")),
        "{text}"
    );
    // Every mfa-notify setting is listed.
    for name in [
        "notify.fraud_emails",
        "notify.sms.webhook_url",
        "notify.template.blocked_body",
    ] {
        assert!(text.contains(name), "{name}");
    }
    // An empty value goes back to the default.
    env.ok(&["config", "set", "notify.smtp.host=", "notify.smtp.from="]);
    assert_eq!(
        env.json(0, &["config", "show"])["notify.smtp.host"]["stored"],
        false
    );
}
