//! pam_mfa.so loaded by libpam and driven by pamtester under pam_wrapper
//! (no system PAM configuration touched): the return codes a stack relies
//! on, the stacked password modes with pam_matrix, and pam_oath on the same
//! token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn a_correct_code_succeeds_and_the_same_code_again_is_refused() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.service("mfa", &[f.our_line("")]);
    let first = f.pamtester(&tools, "mfa", "alice", &format!("{}\n", code(1)));
    first.assert_success();
    assert!(first.text.contains("Verification code:"), "{}", first.text);
    f.pamtester(&tools, "mfa", "alice", &format!("{}\n", code(1)))
        .assert_failure(AUTH_ERR);
    // The store logged both decisions, with the server's host name.
    let t = now();
    let log = f
        .store
        .auth_log(
            mfa_store::mfa_oath::UnixTime::from_secs(t.secs() - 600),
            mfa_store::mfa_oath::UnixTime::from_secs(t.secs() + 600),
        )
        .unwrap();
    let results: Vec<_> = log.iter().map(|e| e.result()).collect();
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(*results[0], mfa_store::mfa_record::AuthResult::Success);
}

#[test]
fn pam_rhost_in_a_trusted_range_needs_no_code() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.store
        .add_trusted_range("192.0.2.0/24", "root", now())
        .unwrap();
    f.service("mfa", &[f.our_line("")]);
    let out = f.pamtester_items(&tools, "mfa", "alice", "", &["rhost=192.0.2.7"]);
    out.assert_success();
    assert!(!out.text.contains("Verification code:"), "{}", out.text);
    // Outside the range, or a host name: the code is asked for.
    let out = f.pamtester_items(&tools, "mfa", "alice", "000000\n", &["rhost=198.51.100.1"]);
    out.assert_failure(AUTH_ERR);
    assert!(out.text.contains("Verification code:"), "{}", out.text);
    let out = f.pamtester_items(
        &tools,
        "mfa",
        "alice",
        "000000\n",
        &["rhost=trusted.example"],
    );
    out.assert_failure(AUTH_ERR);
}

#[test]
fn a_wrong_code_is_auth_err() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.service("mfa", &[f.our_line("prompt=OTP:")]);
    let out = f.pamtester(&tools, "mfa", "alice", "000000\n");
    out.assert_failure(AUTH_ERR);
    assert!(out.text.contains("OTP:"), "{}", out.text);
    // No code or secret in what the user sees.
    assert!(!out.text.contains(SECRET_HEX));
}

#[test]
fn a_locked_user_is_maxtries_with_the_time_it_ends() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("carol");
    f.lock_out("carol");
    f.service("mfa", &[f.our_line("")]);
    // Even the right code: the lock is checked first, the code never asked.
    let out = f.pamtester(&tools, "mfa", "carol", &format!("{}\n", code(1)));
    out.assert_failure(MAXTRIES);
    assert!(out.text.contains("locked until"), "{}", out.text);
    assert!(!out.text.contains("Verification code:"), "{}", out.text);
}

#[test]
fn a_blocked_user_is_auth_err_with_a_message() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("bob");
    f.block("bob");
    f.service("mfa", &[f.our_line("")]);
    let out = f.pamtester(&tools, "mfa", "bob", &format!("{}\n", code(1)));
    out.assert_failure(AUTH_ERR);
    assert!(out.text.contains("blocked"), "{}", out.text);
}

#[test]
fn an_unknown_user_is_user_unknown_unless_nullok() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.user_without_token("dave");
    f.service("mfa", &[f.our_line("")]);
    f.service("mfa-nullok", &[f.our_line("nullok")]);
    f.pamtester(&tools, "mfa", "nobody", "123456\n")
        .assert_failure(USER_UNKNOWN);
    // Known, but without a token: refused without nullok...
    f.pamtester(&tools, "mfa", "dave", "123456\n")
        .assert_failure(AUTH_ERR);
    // ...and passes with it, without being asked for a code.
    let out = f.pamtester(&tools, "mfa-nullok", "dave", "");
    out.assert_success();
    assert!(!out.text.contains("Verification code:"), "{}", out.text);
    f.pamtester(&tools, "mfa-nullok", "nobody", "")
        .assert_success();
    // nullok never lets a user with a token pass without the code.
    f.pamtester(&tools, "mfa-nullok", "alice", "000000\n")
        .assert_failure(AUTH_ERR);
}

#[test]
fn a_missing_store_or_unusable_key_is_never_success() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    let m = module();
    let key = f.key_file.display();
    let missing = f.dir.path().join("missing.db");
    f.service(
        "no-store",
        &[format!(
            "auth required {} db=sqlite:{} key_file={key} nullok",
            m.display(),
            missing.display()
        )],
    );
    f.pamtester(&tools, "no-store", "alice", &format!("{}\n", code(1)))
        .assert_failure(AUTHINFO_UNAVAIL);
    assert!(!missing.exists(), "the module created a store");
    // A PostgreSQL server that is not there: bounded by timeout=.
    f.service(
        "no-server",
        &[format!(
            "auth required {} db=postgres://mfa@127.0.0.1:9/mfa?sslmode=disable key_file={key} timeout=2",
            m.display()
        )],
    );
    let t = std::time::Instant::now();
    f.pamtester(&tools, "no-server", "alice", &format!("{}\n", code(1)))
        .assert_failure(AUTHINFO_UNAVAIL);
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    // A key file the group may read is refused.
    std::fs::set_permissions(&f.key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    f.service("mfa", &[f.our_line("nullok")]);
    f.pamtester(&tools, "mfa", "alice", &format!("{}\n", code(1)))
        .assert_failure(AUTHINFO_UNAVAIL);
    // The wrong key for this store.
    std::fs::set_permissions(&f.key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&f.key_file, format!("1:{}\n", "5a".repeat(32))).unwrap();
    f.pamtester(&tools, "mfa", "alice", &format!("{}\n", code(1)))
        .assert_failure(AUTHINFO_UNAVAIL);
    // A typo in the arguments.
    f.service("typo", &[f.our_line("nulok")]);
    f.pamtester(&tools, "typo", "alice", &format!("{}\n", code(1)))
        .assert_failure(SERVICE_ERR);
}

#[test]
fn use_first_pass_takes_the_code_from_the_stack() {
    let set_items = format!("{WRAPPER_MODULES}/pam_set_items.so");
    let Some(tools) = Tools::find(&[&set_items]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.service(
        "first",
        &[
            format!("auth required {set_items}"),
            f.our_line("use_first_pass"),
        ],
    );
    let c1 = code(1);
    let out = f.pamtester_env(&tools, "first", "alice", "", &[("PAM_AUTHTOK", &c1)], None);
    out.assert_success();
    assert!(!out.text.contains("Verification code:"), "{}", out.text);
    // use_first_pass with nothing in the stack: refused, not asked.
    f.service("first-empty", &[f.our_line("use_first_pass")]);
    let c2 = code(2);
    f.pamtester(&tools, "first-empty", "alice", &format!("{c2}\n"))
        .assert_failure(AUTH_ERR);
    // try_first_pass with nothing in the stack: asked.
    f.service("try-empty", &[f.our_line("try_first_pass")]);
    let out = f.pamtester(&tools, "try-empty", "alice", &format!("{c2}\n"));
    out.assert_success();
    assert!(out.text.contains("Verification code:"), "{}", out.text);
}

#[test]
fn password_otp_in_a_stack_with_pam_matrix() {
    let set_items = format!("{WRAPPER_MODULES}/pam_set_items.so");
    let Some(tools) = Tools::find(&[&set_items]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    let passdb = f.dir.path().join("passdb");
    std::fs::write(&passdb, "alice:hunter2:pw\nalice:hunter2:pw-stacked\n").unwrap();
    // pam_matrix always asks for the password itself (it has no
    // use_first_pass); that PAM_AUTHTOK holds the password part is checked
    // with pam_get_items in tests/pypamtest.rs.
    let matrix = format!(
        "auth required {WRAPPER_MODULES}/pam_matrix.so passdb={}",
        passdb.display()
    );
    f.service("pw", &[f.our_line("password-otp"), matrix.clone()]);
    let out = f.pamtester(
        &tools,
        "pw",
        "alice",
        &format!("hunter2{}\nhunter2\n", code(1)),
    );
    out.assert_success();
    assert_eq!(
        out.text
            .matches("Password followed by verification code:")
            .count(),
        1,
        "{}",
        out.text
    );
    // Right code, wrong password: pam_matrix refuses.
    f.pamtester(
        &tools,
        "pw",
        "alice",
        &format!("hunter3{}\nhunter3\n", code(2)),
    )
    .assert_failure(AUTH_ERR);
    // Right password, wrong code: we refuse.
    f.pamtester(&tools, "pw", "alice", "hunter2000000\nhunter2\n")
        .assert_failure(AUTH_ERR);
    // The code used above with a password in front: a replay.
    f.pamtester(
        &tools,
        "pw",
        "alice",
        &format!("hunter2{}\nhunter2\n", code(1)),
    )
    .assert_failure(AUTH_ERR);
    // use_first_pass password-otp: the password+code an earlier module
    // read; nothing asked by us.
    f.service(
        "pw-stacked",
        &[
            format!("auth required {set_items}"),
            f.our_line("use_first_pass password-otp"),
            matrix,
        ],
    );
    let tok = format!("hunter2{}", code(3));
    let out = f.pamtester_env(
        &tools,
        "pw-stacked",
        "alice",
        "hunter2\n",
        &[("PAM_AUTHTOK", &tok)],
        None,
    );
    out.assert_success();
    assert!(!out.text.contains("verification code:"), "{}", out.text);
}

#[test]
fn pam_oath_and_ours_accept_the_same_codes_and_ours_refuses_a_replay() {
    let Some(tools) = Tools::find(&[PAM_OATH]) else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("olga");
    let users = f.dir.path().join("users.oath");
    // pam_oath's users file: the same secret, HOTP, 6 digits; counter 0
    // used (as our activation used it).
    std::fs::write(&users, format!("HOTP olga - {SECRET_HEX} 0\n")).unwrap();
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o600)).unwrap();
    f.service(
        "oath",
        &[format!(
            "auth required {PAM_OATH} usersfile={} window=10 digits=6",
            users.display()
        )],
    );
    f.service("mfa", &[f.our_line("")]);
    for counter in [1, 2, 5] {
        let c = code(counter);
        f.pamtester(&tools, "oath", "olga", &format!("{c}\n"))
            .assert_success();
        f.pamtester(&tools, "mfa", "olga", &format!("{c}\n"))
            .assert_success();
        // Ours refuses it the second time.
        f.pamtester(&tools, "mfa", "olga", &format!("{c}\n"))
            .assert_failure(AUTH_ERR);
    }
    // A wrong code: refused by both.
    f.pamtester(&tools, "oath", "olga", "000000\n")
        .assert_failure(AUTH_ERR);
    f.pamtester(&tools, "mfa", "olga", "000000\n")
        .assert_failure(AUTH_ERR);
}

#[test]
fn pamtester_with_our_module_is_clean_under_valgrind() {
    let Some(tools) = Tools::find(&[]) else {
        return;
    };
    let Some(valgrind) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("valgrind"))
            .find(|v| v.is_file())
    }) else {
        mfa_test_support::skip!("valgrind is not installed");
        return;
    };
    let valgrind = valgrind.to_str().unwrap().to_owned();
    let f = Fixture::new();
    f.user_with_token("alice");
    f.user_without_token("dave");
    f.service("mfa", &[f.our_line("")]);
    let wrap = [
        valgrind.as_str(),
        "-q",
        "--error-exitcode=1",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,possible",
    ];
    // Approved, denied and unknown: every path through the store.
    for (user, input, approved) in [
        ("alice", code(1), true),
        ("alice", "000000".to_owned(), false),
        ("nobody", "000000".to_owned(), false),
    ] {
        let out = f.pamtester_env(&tools, "mfa", user, &format!("{input}\n"), &[], Some(&wrap));
        assert_eq!(out.ok, approved, "{user} {input}: {}", out.text);
        assert!(!out.text.contains("=="), "valgrind reported: {}", out.text);
    }
}
