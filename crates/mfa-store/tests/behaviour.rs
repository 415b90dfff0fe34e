//! The behavioural suite: every test runs on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_fraud::Remediation;
use mfa_lockout::{FactorClass, Lock};
use mfa_oath::{HotpParams, TotpParams};
use mfa_record::{AuthMode, DenialKind, DenialReason};
use mfa_store::{
    AuthOutcome, AuthRequest, Channel, Error, ImportMode, ImportRejection, MasterKey, NewToken,
    Presented, Store, StoreConfig, TokenKind, UserProfile,
};

fn reason(o: &mfa_store::VerifyOutcome) -> Option<DenialKind> {
    o.denial().map(|r| r.kind())
}

fn failures(s: &Store, class: FactorClass) -> u32 {
    s.lockout_state("alice", class).unwrap().failures()
}

both_backends!(
    verify_approves_once_and_names_each_denial,
    unactivated_and_removed_tokens_are_not_activated_accounts,
    activation_uses_normal_verification_and_records_the_step,
    hotp_tokens_count_and_never_replay,
    assignment_rules,
    import_all_or_nothing_and_accepted_only,
    lockout_locks_at_threshold_and_unblocks,
    lockout_counter_restarts_after_reset_window,
    fraud_report_blocks_and_admin_unblocks,
    one_time_codes_expire_and_are_consumed_once,
    trusted_ranges,
    reports_and_retention,
    rekey_keeps_every_secret_and_old_key_is_refused,
    wrong_master_key_changes_nothing,
    newer_schema_is_refused,
    backup_restore_gives_identical_reports,
    user_records,
    resync_learns_drift_and_counters,
);

fn verify_approves_once_and_names_each_denial(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    let ok = s.verify("alice", &code, at(t), &ctx()).unwrap();
    assert!(ok.is_approved(), "{ok:?}");
    assert_eq!(ok.serial.as_deref(), Some("T1"));
    assert_eq!(ok.step, Some(t / 30));
    assert_eq!(s.token("T1").unwrap().unwrap().last_step, Some(t / 30));

    // RFC 6238 §5.2: the same code is never accepted twice.
    let again = s.verify("alice", &code, at(t + 5), &ctx()).unwrap();
    assert_eq!(reason(&again), Some(DenialKind::CodeReplayed));
    assert_eq!(again.step, Some(t / 30));

    let t2 = t + 30;
    assert_eq!(
        reason(
            &s.verify("alice", &wrong_code(1, t2), at(t2), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeWrong)
    );
    assert_eq!(
        reason(&s.verify("alice", "12ab56", at(t2), &ctx()).unwrap()),
        Some(DenialKind::CodeMalformed)
    );
    assert_eq!(
        reason(&s.verify("bob", &code, at(t2), &ctx()).unwrap()),
        Some(DenialKind::UnknownUser)
    );
    // Replayed, wrong and malformed codes are all denials that count; a
    // success clears the counter.
    assert_eq!(failures(&s, FactorClass::Otp), 3);
    assert!(
        s.verify("alice", &code_at(1, t2), at(t2), &ctx())
            .unwrap()
            .is_approved()
    );
    assert_eq!(failures(&s, FactorClass::Otp), 0);

    // Every attempt is in the log, in order, with its reason and context.
    let log = s.auth_log(at(0), at(u64::MAX / 2)).unwrap();
    let results: Vec<_> = log
        .iter()
        .map(|e| (e.user().as_str(), e.result().denial().map(|r| r.kind())))
        .collect();
    assert_eq!(
        results,
        [
            ("alice", None),
            ("alice", Some(DenialKind::CodeReplayed)),
            ("alice", Some(DenialKind::CodeWrong)),
            ("alice", Some(DenialKind::CodeMalformed)),
            ("bob", Some(DenialKind::UnknownUser)),
            ("alice", None),
        ]
    );
    assert_eq!(
        log[1].result().denial(),
        Some(&DenialReason::CodeReplayed { step: t / 30 })
    );
    assert_eq!(log[0].mode(), AuthMode::OathCode);
    assert_eq!(log[0].server_name().as_str(), "mfa-1");
    assert_eq!(log[0].client_ip(), Some("192.0.2.7".parse().unwrap()));
}

fn unactivated_and_removed_tokens_are_not_activated_accounts(b: &Backend) {
    let s = b.open();
    s.import([totp_token("T1", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    s.assign("T1", "alice", at(T0)).unwrap();
    let code = code_at(1, T0);
    let o = s.verify("alice", &code, at(T0), &ctx()).unwrap();
    assert_eq!(reason(&o), Some(DenialKind::NotActivated));
    // The code was not consumed: activation still takes it.
    s.activate("T1", &code, at(T0)).unwrap();
    assert!(
        s.verify("alice", &code_at(1, T0 + 30), at(T0 + 30), &ctx())
            .unwrap()
            .is_approved()
    );
    s.unassign("T1", at(T0 + 60)).unwrap();
    let o = s
        .verify("alice", &code_at(1, T0 + 60), at(T0 + 60), &ctx())
        .unwrap();
    assert_eq!(reason(&o), Some(DenialKind::NotActivated));
    let info = s.token("T1").unwrap().unwrap();
    assert!(!info.active && info.user.is_none());
}

fn activation_uses_normal_verification_and_records_the_step(b: &Backend) {
    let s = b.open();
    s.import([totp_token("T1", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    assert!(matches!(
        s.activate("T1", &code_at(1, T0), at(T0)),
        Err(Error::TokenNotAssigned { .. })
    ));
    assert!(matches!(
        s.activate("nope", "123456", at(T0)),
        Err(Error::UnknownToken { .. })
    ));
    s.assign("T1", "alice", at(T0)).unwrap();
    let bad = s.activate("T1", &wrong_code(1, T0), at(T0)).unwrap_err();
    assert!(
        matches!(
            bad,
            Error::ActivationFailed {
                reason: mfa_oath::Error::CodeNotInWindow,
                ..
            }
        ),
        "{bad:?}"
    );
    assert_eq!(s.activate("T1", &code_at(1, T0), at(T0)).unwrap(), T0 / 30);
    // The activation code cannot sign in.
    let o = s.verify("alice", &code_at(1, T0), at(T0), &ctx()).unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeReplayed));
}

fn hotp_tokens_count_and_never_replay(b: &Backend) {
    let s = b.open();
    let mut t = NewToken::new("H1", TokenKind::Hotp(HotpParams::default()), secret(3));
    t.counter = 5;
    s.import([t.with_user("carol")], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let h = hotp(3);
    // Counters before the imported one are never accepted.
    assert!(matches!(
        s.activate("H1", &h.generate(4).to_string(), at(T0)),
        Err(Error::ActivationFailed { .. })
    ));
    assert_eq!(
        s.activate("H1", &h.generate(5).to_string(), at(T0))
            .unwrap(),
        5
    );
    let o = s
        .verify("carol", &h.generate(8).to_string(), at(T0), &ctx())
        .unwrap();
    assert!(o.is_approved());
    assert_eq!(o.step, Some(8));
    let o = s
        .verify("carol", &h.generate(7).to_string(), at(T0), &ctx())
        .unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeWrong));
    assert!(
        s.verify("carol", &h.generate(9).to_string(), at(T0), &ctx())
            .unwrap()
            .is_approved()
    );
}

fn assignment_rules(b: &Backend) {
    let s = b.open();
    let tokens: Vec<_> = (0..7).map(|i| totp_token(&format!("T{i}"), i)).collect();
    s.import(tokens, ImportMode::AllOrNothing, at(T0)).unwrap();
    for i in 0..5 {
        s.assign(&format!("T{i}"), "alice", at(T0)).unwrap();
    }
    // Idempotent for the same owner.
    s.assign("T0", "alice", at(T0)).unwrap();
    let e = s.assign("T5", "alice", at(T0)).unwrap_err();
    assert!(
        matches!(e, Error::TooManyTokens { ref user, max: 5 } if user == "alice"),
        "{e:?}"
    );
    let e = s.assign("T0", "bob", at(T0)).unwrap_err();
    assert!(
        matches!(e, Error::TokenAssigned { ref user, .. } if user == "alice"),
        "{e:?}"
    );
    assert!(matches!(
        s.assign("nope", "bob", at(T0)),
        Err(Error::UnknownToken { .. })
    ));
    assert!(matches!(
        s.assign("T6", "", at(T0)),
        Err(Error::FieldLength { .. })
    ));
    s.unassign("T4", at(T0)).unwrap();
    s.assign("T5", "alice", at(T0)).unwrap();
    assert_eq!(s.user_tokens("alice").unwrap().len(), 5);
    s.assign("T4", "bob", at(T0)).unwrap();
    let all = s.tokens().unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[4].user.as_deref(), Some("bob"));
}

fn import_all_or_nothing_and_accepted_only(b: &Backend) {
    let s = b.open();
    s.import([totp_token("A", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let batch = || {
        vec![
            totp_token("B", 2),
            totp_token("A", 3),
            totp_token("C", 4),
            totp_token("B", 5),
        ]
    };
    let e = s
        .import(batch(), ImportMode::AllOrNothing, at(T0))
        .unwrap_err();
    let Error::ImportRefused { report } = e else {
        panic!("{e:?}")
    };
    assert_eq!(report.imported, 0);
    let rejected: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.index, r.serial.as_str(), r.reason.clone()))
        .collect();
    assert_eq!(
        rejected,
        [
            (1, "A", ImportRejection::Duplicate),
            (3, "B", ImportRejection::Duplicate)
        ]
    );
    assert!(s.token("B").unwrap().is_none(), "nothing imported");
    assert_eq!(s.stats().unwrap().tokens, 1);

    let r = s.import(batch(), ImportMode::AcceptedOnly, at(T0)).unwrap();
    assert_eq!(r.imported, 2);
    assert_eq!(r.rejected.len(), 2);
    assert_eq!(s.stats().unwrap().tokens, 3);

    // Assignment on import respects the five-token rule, per token.
    let with_user: Vec<_> = (0..6)
        .map(|i| totp_token(&format!("U{i}"), 10 + i).with_user("dave"))
        .collect();
    let r = s
        .import(with_user, ImportMode::AcceptedOnly, at(T0))
        .unwrap();
    assert_eq!(r.imported, 5);
    assert_eq!(
        r.rejected[0].reason,
        ImportRejection::TooManyTokens {
            user: "dave".into()
        }
    );
    assert_eq!(s.user_tokens("dave").unwrap().len(), 5);
}

fn lockout_policy() -> StoreConfig {
    otp_lockout(3, 60, 300)
}

fn lockout_locks_at_threshold_and_unblocks(b: &Backend) {
    let s = b.open_with(lockout_policy());
    let t = enrol(&s, "alice", "T1", 1);
    for i in 0..3 {
        let o = s
            .verify("alice", &wrong_code(1, t), at(t + i), &ctx())
            .unwrap();
        assert_eq!(reason(&o), Some(DenialKind::CodeWrong));
    }
    // Locked at exactly the third denial, for 300 s.
    let st = s.lockout_state("alice", FactorClass::Otp).unwrap();
    assert_eq!(
        (st.failures(), st.lock()),
        (3, Lock::Until(at(t + 2 + 300)))
    );
    // Locked: the right code is denied without being verified (not consumed)
    // and the lock is not extended.
    let good = code_at(1, t + 30);
    let o = s.verify("alice", &good, at(t + 30), &ctx()).unwrap();
    assert_eq!(
        o.denial(),
        Some(DenialReason::Locked { until: at(t + 302) })
    );
    assert_eq!(s.lockout_state("alice", FactorClass::Otp).unwrap(), st);
    assert_eq!(s.token("T1").unwrap().unwrap().last_step, Some(T0 / 30));
    // Automatic unblock.
    let later = t + 302;
    assert!(
        s.verify("alice", &code_at(1, later), at(later), &ctx())
            .unwrap()
            .is_approved()
    );
    // Administrator unblock, with the reason logged.
    for i in 0..3 {
        let _ = s
            .verify(
                "alice",
                &wrong_code(1, later + 30),
                at(later + 30 + i),
                &ctx(),
            )
            .unwrap();
    }
    assert!(
        !s.lockout_decision("alice", FactorClass::Otp, at(later + 40))
            .unwrap()
            .is_allowed()
    );
    s.lockout_unblock(
        "alice",
        FactorClass::Otp,
        "admin",
        "called the helpdesk",
        at(later + 40),
    )
    .unwrap();
    assert!(
        s.verify("alice", &code_at(1, later + 60), at(later + 60), &ctx())
            .unwrap()
            .is_approved()
    );
    let audit = s.audit_log(at(0), at(u64::MAX / 2)).unwrap();
    let last = audit
        .iter()
        .find(|a| a.action == "lockout_unblock")
        .unwrap();
    assert_eq!(last.reason.as_deref(), Some("otp: called the helpdesk"));
    assert_eq!(last.actor.as_deref(), Some("admin"));
    // Unblocking an account that is not locked is refused (mfa-lockout).
    assert!(matches!(
        s.lockout_unblock("alice", FactorClass::Otp, "admin", "again", at(later + 61)),
        Err(Error::Lockout(mfa_lockout::Error::NotLocked { .. }))
    ));
    // SMS codes have their own counter.
    assert_eq!(failures(&s, FactorClass::SmsCode), 0);
}

fn lockout_counter_restarts_after_reset_window(b: &Backend) {
    let s = b.open_with(lockout_policy());
    let t = enrol(&s, "alice", "T1", 1);
    for i in 0..2 {
        let _ = s
            .verify("alice", &wrong_code(1, t), at(t + i), &ctx())
            .unwrap();
    }
    let t2 = t + 1 + 61;
    for i in 0..2 {
        let _ = s
            .verify("alice", &wrong_code(1, t2), at(t2 + i), &ctx())
            .unwrap();
    }
    let st = s.lockout_state("alice", FactorClass::Otp).unwrap();
    assert_eq!((st.failures(), st.lock()), (2, Lock::None));
}

fn fraud_report_blocks_and_admin_unblocks(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let effects = s
        .report_fraud("alice", mfa_fraud::Channel::Phone, true, at(t), &ctx())
        .unwrap();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, mfa_fraud::Effect::RiskDetected(_)))
    );
    let st = s.fraud_state("alice").unwrap();
    assert!(st.risk.is_some() && s.user_at_risk("alice").unwrap());
    assert_eq!(
        st.block.as_ref().map(|b| b.until),
        Some(at(t + 90 * 86_400))
    );
    let o = s
        .verify("alice", &code_at(1, t + 30), at(t + 30), &ctx())
        .unwrap();
    assert_eq!(
        o.denial(),
        Some(DenialReason::FraudBlocked {
            until: Some(at(t + 90 * 86_400))
        })
    );
    // The code was not consumed and no lockout failure was counted.
    assert_eq!(failures(&s, FactorClass::Otp), 0);
    // Unblocked but still at high risk: still denied (both must be cleared).
    s.fraud_unblock(
        "alice",
        "admin",
        "user confirmed phone theft",
        at(t + 40),
        &ctx(),
    )
    .unwrap();
    let o = s
        .verify("alice", &code_at(1, t + 60), at(t + 60), &ctx())
        .unwrap();
    assert_eq!(o.denial(), Some(DenialReason::HighUserRisk));
    s.remediate_risk(
        "alice",
        "admin",
        Remediation::PasswordReset,
        at(t + 61),
        &ctx(),
    )
    .unwrap();
    assert_eq!(
        s.fraud_state("alice").unwrap(),
        mfa_fraud::FraudState::new()
    );
    assert!(
        s.verify("alice", &code_at(1, t + 90), at(t + 90), &ctx())
            .unwrap()
            .is_approved()
    );
    // An administrator's block, then the 90-day expiry of a report's block.
    s.fraud_block("alice", "admin", "suspicious", at(t + 120), &ctx())
        .unwrap();
    let o = s
        .verify("alice", &code_at(1, t + 150), at(t + 150), &ctx())
        .unwrap();
    assert_eq!(reason(&o), Some(DenialKind::AdminBlocked));
    assert!(matches!(
        s.fraud_block("alice", "admin", "twice", at(t + 151), &ctx()),
        Err(Error::Fraud(mfa_fraud::Error::AlreadyBlocked { .. }))
    ));
    let after = t + 120 + 90 * 86_400;
    assert!(
        s.verify("alice", &code_at(1, after), at(after), &ctx())
            .unwrap()
            .is_approved()
    );
    let actions: Vec<_> = s
        .audit_log(at(0), at(u64::MAX / 2))
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        mfa_fraud::AuditActivity::FraudReportedUserBlocked,
        mfa_fraud::AuditActivity::FraudReported,
        mfa_fraud::AuditActivity::UserUnblocked,
        mfa_fraud::AuditActivity::RiskRemediated,
        mfa_fraud::AuditActivity::UserBlocked,
    ] {
        assert!(
            actions.iter().any(|x| x == a.as_str()),
            "{a} missing from {actions:?}"
        );
    }
    // The report is in the sign-in log as "MFA denied, fraud code entered".
    let log = s.auth_log(at(t), at(t + 1)).unwrap();
    assert_eq!(
        log[0].result().denial(),
        Some(&DenialReason::FraudCodeEntered)
    );
    assert_eq!(log[0].mode(), AuthMode::PhoneCall);
    assert!(matches!(
        s.report_fraud("nobody", mfa_fraud::Channel::App, true, at(t), &ctx()),
        Err(Error::UnknownUser { .. })
    ));
}

fn one_time_codes_expire_and_are_consumed_once(b: &Backend) {
    let s = b.open();
    assert!(matches!(
        s.create_code("alice", Channel::Sms, "123456", at(T0)),
        Err(Error::UnknownUser { .. })
    ));
    s.put_user(&UserProfile::new("alice"), at(T0)).unwrap();
    let o = s
        .verify_code("alice", Channel::Sms, "123456", at(T0), &ctx())
        .unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeWrong));
    assert_eq!(
        s.create_code("alice", Channel::Sms, "123456", at(T0))
            .unwrap(),
        at(T0 + 300)
    );
    assert_eq!(
        reason(
            &s.verify_code("alice", Channel::Voice, "123456", at(T0), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeWrong)
    );
    assert_eq!(
        reason(
            &s.verify_code("alice", Channel::Sms, "654321", at(T0), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeWrong)
    );
    assert!(
        s.verify_code("alice", Channel::Sms, "123456", at(T0 + 299), &ctx())
            .unwrap()
            .is_approved()
    );
    assert_eq!(
        reason(
            &s.verify_code("alice", Channel::Sms, "123456", at(T0 + 299), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeReplayed)
    );
    s.create_code("alice", Channel::Sms, "777777", at(T0 + 1000))
        .unwrap();
    assert_eq!(
        reason(
            &s.verify_code("alice", Channel::Sms, "777777", at(T0 + 1300), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeExpired)
    );
    // The success cleared the counter; the replay counted 1; the expired code came
    // after the 300 s reset window, so the counter restarted: 1.
    assert_eq!(failures(&s, FactorClass::SmsCode), 1);
    let log = s.auth_log(at(T0 + 299), at(T0 + 300)).unwrap();
    assert_eq!(log[0].mode(), AuthMode::SmsOneWay);

    // Configurable TTL.
    let mut c = StoreConfig::default();
    c.code_ttl = 180;
    let s2 = b.open_with(c);
    assert_eq!(
        s2.create_code("alice", Channel::Voice, "111111", at(T0))
            .unwrap(),
        at(T0 + 180)
    );
    assert_eq!(
        reason(
            &s2.verify_code("alice", Channel::Voice, "111111", at(T0 + 180), &ctx())
                .unwrap()
        ),
        Some(DenialKind::CodeExpired)
    );
}

fn trusted_ranges(b: &Backend) {
    let s = b.open();
    s.add_trusted_range("192.168.1.77/24", "admin", at(T0))
        .unwrap();
    s.add_trusted_range("2001:db8::/48", "admin", at(T0))
        .unwrap();
    assert!(s.is_trusted_ip("192.168.1.200".parse().unwrap()).unwrap());
    assert!(
        s.is_trusted_ip("2001:db8:0:ffff::1".parse().unwrap())
            .unwrap()
    );
    assert!(!s.is_trusted_ip("192.168.2.1".parse().unwrap()).unwrap());
    assert!(!s.is_trusted_ip("2001:db9::1".parse().unwrap()).unwrap());
    assert!(matches!(
        s.add_trusted_range("10.0.0.0/40", "admin", at(T0)),
        Err(Error::Cidr { .. })
    ));
    for i in 0..48 {
        s.add_trusted_range(&format!("10.{i}.0.0/16"), "admin", at(T0))
            .unwrap();
    }
    // Re-adding an existing range is fine at the limit; a 51st is not.
    s.add_trusted_range("10.0.0.0/16", "admin", at(T0)).unwrap();
    assert!(matches!(
        s.add_trusted_range("172.16.0.0/12", "admin", at(T0)),
        Err(Error::TooManyTrustedRanges { max: 50 })
    ));
    assert_eq!(s.trusted_ranges().unwrap().len(), 50);
    assert!(
        s.remove_trusted_range("10.0.0.0/16", "admin", at(T0))
            .unwrap()
    );
    s.add_trusted_range("172.16.0.0/12", "admin", at(T0))
        .unwrap();
}

fn reports_and_retention(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    enrol(&s, "bob", "T2", 2);
    s.put_user(&UserProfile::new("carol"), at(T0)).unwrap();
    assert!(
        s.verify("alice", &code_at(1, t), at(t), &ctx())
            .unwrap()
            .is_approved()
    );
    let _ = s
        .verify("alice", &wrong_code(1, t + 30), at(t + 30), &ctx())
        .unwrap();
    let _ = s
        .verify("alice", &wrong_code(1, t + 30), at(t + 31), &ctx())
        .unwrap();
    let day = 86_400;
    let late = t + 100 * day;
    assert!(
        s.verify("bob", &code_at(2, late), at(late), &ctx())
            .unwrap()
            .is_approved()
    );
    let sum = s.usage_summary(at(0), at(late + 1)).unwrap();
    assert_eq!(
        (
            sum.users_configured(),
            sum.users_active(),
            sum.successes(),
            sum.denials()
        ),
        // carol has no method (no token, no phone, no app password): not billed.
        (2, 2, 2, 2)
    );
    assert_eq!(
        sum.denials_by_reason()
            .iter()
            .map(|(k, n)| (*k, *n))
            .collect::<Vec<_>>(),
        [(DenialKind::CodeWrong, 2)]
    );
    let early = s.usage_summary(at(t + 30), at(t + 31)).unwrap();
    assert_eq!((early.successes(), early.denials()), (0, 1));
    // Retention: 90 days.
    let purged = s
        .purge_log(at(late), mfa_store::DEFAULT_RETENTION_DAYS)
        .unwrap();
    assert!(purged >= 3, "{purged}");
    let left = s.auth_log(at(0), at(late + 1)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].user().as_str(), "bob");
    let mut csv = Vec::new();
    assert_eq!(
        s.export_auth_log_csv(at(0), at(late + 1), &mut csv)
            .unwrap(),
        1
    );
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains("bob") && lines[1].contains("mfa-1") && lines[1].contains("192.0.2.7"),
        "{csv}"
    );
}

fn rekey_keeps_every_secret_and_old_key_is_refused(b: &Backend) {
    let mut c = StoreConfig::default();
    c.remember_device_days = 30;
    let s = b.open_with(c.clone());
    let t = enrol(&s, "alice", "T1", 1);
    s.create_code("alice", Channel::Sms, "123456", at(t))
        .unwrap();
    let pw = s.add_app_password("alice", "mail", at(t)).unwrap();
    let code = code_at(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&code)).remembering_device();
    let AuthOutcome::Approved {
        device_token: Some(device),
        ..
    } = s.authenticate(&req, at(t), &ctx()).unwrap()
    else {
        panic!("approved with a device token");
    };
    // A second server still running with the old key.
    let mut old_server = b.open_with(c.clone());
    let new = MasterKey::new(2, [0x77; 32]);
    assert!(matches!(
        s.rekey(&key()),
        Err(Error::SameKeyId { key_id: 1 })
    ));
    assert_eq!(s.rekey(&new).unwrap(), 1);
    // Everything sealed or hashed before the rekey still works: the token,
    // the pending SMS code, the app password, the remembered device.
    assert!(
        s.verify("alice", &code_at(1, t + 30), at(t + 30), &ctx())
            .unwrap()
            .is_approved()
    );
    assert!(
        s.verify_code("alice", Channel::Sms, "123456", at(t + 31), &ctx())
            .unwrap()
            .is_approved()
    );
    let app = AuthRequest::new("alice", Presented::AppPassword(pw.expose()));
    assert!(
        s.authenticate(&app, at(t + 32), &ctx())
            .unwrap()
            .is_approved()
    );
    let dev = AuthRequest::new("alice", Presented::Nothing).with_device(device.expose());
    assert!(
        s.authenticate(&dev, at(t + 33), &ctx())
            .unwrap()
            .is_approved()
    );
    // The server with the old key refuses to write imports and settings.
    assert!(matches!(
        old_server.import([totp_token("T9", 9)], ImportMode::AllOrNothing, at(t)),
        Err(Error::WrongMasterKey {
            expected: 2,
            given: 1
        })
    ));
    assert!(matches!(
        old_server.set_settings(&[("log.email", "off")], "root", at(t)),
        Err(Error::WrongMasterKey {
            expected: 2,
            given: 1
        })
    ));
    drop((s, old_server));
    let e = Store::open(&b.url, &key()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongMasterKey {
                expected: 2,
                given: 1
            }
        ),
        "{e:?}"
    );
    let s = Store::open_with(&b.url, &new, c).unwrap();
    assert!(
        s.verify("alice", &code_at(1, t + 60), at(t + 60), &ctx())
            .unwrap()
            .is_approved()
    );
    assert!(
        s.authenticate(&app, at(t + 61), &ctx())
            .unwrap()
            .is_approved()
    );
}

fn wrong_master_key_changes_nothing(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let mut before = Vec::new();
    s.backup(&mut before).unwrap();
    drop(s);
    for wrong in [MasterKey::new(1, [0x00; 32]), MasterKey::new(9, [0x5a; 32])] {
        let e = Store::open(&b.url, &wrong).unwrap_err();
        assert!(
            matches!(e, Error::WrongMasterKey { expected: 1, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("wrong master key"));
    }
    let s = b.open();
    let mut after = Vec::new();
    s.backup(&mut after).unwrap();
    assert_eq!(before, after);
    assert!(
        s.verify("alice", &code_at(1, t), at(t), &ctx())
            .unwrap()
            .is_approved()
    );
    assert!(format!("{:?}", MasterKey::new(1, [0x5a; 32])).contains("REDACTED"));
}

fn newer_schema_is_refused(b: &Backend) {
    let s = b.open();
    enrol(&s, "alice", "T1", 1);
    drop(s);
    let bump = "UPDATE mfa_meta SET value = '999' WHERE name = 'schema_version'";
    match b.name {
        "sqlite" => {
            let path = b.url.strip_prefix("sqlite:").unwrap();
            rusqlite::Connection::open(path)
                .unwrap()
                .execute(bump, [])
                .unwrap();
        }
        _ => {
            let mut c = mfa_store::connect_postgres(&b.url).unwrap();
            c.execute(bump, &[]).unwrap();
        }
    }
    let e = Store::open(&b.url, &key()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::SchemaTooNew {
                found: 999,
                supported: mfa_store::SCHEMA_VERSION
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("newer"), "{e}");
}

fn backup_restore_gives_identical_reports(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    enrol(&s, "bob, \"the builder\"", "T2", 2);
    assert!(
        s.verify("alice", &code_at(1, t), at(t), &ctx())
            .unwrap()
            .is_approved()
    );
    let _ = s
        .verify("alice", &wrong_code(1, t + 30), at(t + 30), &ctx())
        .unwrap();
    s.report_fraud(
        "bob, \"the builder\"",
        mfa_fraud::Channel::App,
        true,
        at(t + 40),
        &ctx(),
    )
    .unwrap();
    s.add_trusted_range("10.1.0.0/16", "admin", at(t)).unwrap();
    s.create_code("alice", Channel::Sms, "424242", at(t + 50))
        .unwrap();
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let report = |s: &Store| {
        let mut csv = Vec::new();
        s.export_auth_log_csv(at(0), at(u64::MAX / 2), &mut csv)
            .unwrap();
        (
            csv,
            s.usage_summary(at(0), at(u64::MAX / 2)).unwrap(),
            s.audit_log(at(0), at(u64::MAX / 2)).unwrap(),
        )
    };
    let expected = report(&s);

    // Into a fresh store of the other backend when available, and back.
    let others: Vec<Backend> = [Some(Backend::sqlite()), Backend::postgres("restore_target")]
        .into_iter()
        .flatten()
        .collect();
    for other in &others {
        let r = other.open();
        // Corrupted copies restore nothing.
        let mut bad = file.clone();
        let mid = bad.len() / 2;
        bad[mid] = if bad[mid] == b'a' { b'b' } else { b'a' };
        assert!(matches!(
            r.restore(std::io::Cursor::new(&bad)),
            Err(Error::BackupChecksum | Error::BackupFormat { .. })
        ));
        let truncated = &file[..file.len() - 20];
        assert!(r.restore(std::io::Cursor::new(truncated)).is_err());
        assert_eq!(r.stats().unwrap().tokens, 0);

        r.restore(std::io::Cursor::new(&file)).unwrap();
        assert_eq!(report(&r), expected, "{} -> {}", b.name, other.name);
        // The restored store works: tokens open, replay state is kept.
        assert_eq!(
            reason(&r.verify("alice", &code_at(1, t), at(t), &ctx()).unwrap()),
            Some(DenialKind::CodeReplayed)
        );
        assert!(
            r.verify("alice", &code_at(1, t + 60), at(t + 60), &ctx())
                .unwrap()
                .is_approved()
        );
        assert!(
            r.verify_code("alice", Channel::Sms, "424242", at(t + 60), &ctx())
                .unwrap()
                .is_approved()
        );
        assert_eq!(
            reason(
                &r.verify(
                    "bob, \"the builder\"",
                    &code_at(2, t + 60),
                    at(t + 60),
                    &ctx()
                )
                .unwrap()
            ),
            Some(DenialKind::FraudBlocked)
        );
        assert!(r.is_trusted_ip("10.1.2.3".parse().unwrap()).unwrap());
        // Not into a non-empty store.
        assert!(matches!(
            r.restore(std::io::Cursor::new(&file)),
            Err(Error::RestoreTargetNotEmpty { .. })
        ));
    }
    // Not with another key.
    let fresh = Backend::sqlite();
    let other_key = Store::open(&fresh.url, &MasterKey::new(1, [1; 32])).unwrap();
    assert!(matches!(
        other_key.restore(std::io::Cursor::new(&file)),
        Err(Error::WrongMasterKey { .. })
    ));
    assert_eq!(other_key.stats().unwrap().tokens, 0);
}

fn user_records(b: &Backend) {
    let s = b.open();
    let mut u = UserProfile::new("alice");
    u.email = Some("alice@example.com".into());
    u.phone = Some("+31 20 123 4567".into());
    s.put_user(&u, at(T0)).unwrap();
    assert_eq!(s.user("alice").unwrap(), Some(u));
    assert_eq!(s.user("nobody").unwrap(), None);
    let _ = TotpParams::default();
}

fn resync_learns_drift_and_counters(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let totp = totp(1);
    // The token's clock runs 5 steps (2.5 minutes) fast: its codes are refused.
    let shown = |now: u64, ahead: u64| totp.generate_at_step(now / 30 + ahead).to_string();
    let o = s.verify("alice", &shown(t, 5), at(t), &ctx()).unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeWrong));
    let step = s
        .resync("T1", &[&shown(t, 4), &shown(t, 5)], 20, at(t))
        .unwrap();
    assert_eq!(step, t / 30 + 5);
    assert_eq!(s.token("T1").unwrap().unwrap().drift, 5);
    // The resync codes cannot be replayed; the next code is accepted.
    let o = s.verify("alice", &shown(t, 5), at(t), &ctx()).unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeReplayed));
    assert!(
        s.verify("alice", &shown(t + 30, 5), at(t + 30), &ctx())
            .unwrap()
            .is_approved()
    );
    assert!(matches!(
        s.resync("T1", &["000000", "111111"], 20, at(t + 60)),
        Err(Error::ResyncFailed { .. })
    ));

    // HOTP: the user pressed the button 50 times; the look-ahead of 10 misses it.
    s.import(
        [NewToken::new("H1", TokenKind::Hotp(HotpParams::default()), secret(3)).with_user("bob")],
        ImportMode::AllOrNothing,
        at(T0),
    )
    .unwrap();
    let h = hotp(3);
    s.activate("H1", &h.generate(0).to_string(), at(T0))
        .unwrap();
    let o = s
        .verify("bob", &h.generate(50).to_string(), at(T0), &ctx())
        .unwrap();
    assert_eq!(reason(&o), Some(DenialKind::CodeWrong));
    let codes = [h.generate(50).to_string(), h.generate(51).to_string()];
    assert_eq!(
        s.resync("H1", &[&codes[0], &codes[1]], 100, at(T0))
            .unwrap(),
        51
    );
    assert!(
        s.verify("bob", &h.generate(52).to_string(), at(T0), &ctx())
            .unwrap()
            .is_approved()
    );
    assert!(matches!(
        s.resync("nope", &["1", "2"], 10, at(T0)),
        Err(Error::UnknownToken { .. })
    ));
}
