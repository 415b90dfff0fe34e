//! Property tests for the invariants of mfa-record.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::collections::BTreeMap;
use std::net::IpAddr;

use mfa_oath::UnixTime;
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, CsvLimits, DenialKind, DenialReason, DeviceToken,
    DeviceTokenExport, Email, Error, FieldPolicy, LogRow, MAX_OATH_TOKENS, OathToken,
    OathTokenKind, PersonName, PhoneExport, PhoneNumber, ServerName, TokenSerial, UserDirectory,
    UserId, UserRecord, neutralise_cell, read_log_csv, unneutralise_cell, write_log_csv,
};
use proptest::prelude::*;

// ----- the token rules -----

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const SERIALS: usize = 9;

#[derive(Debug, Clone)]
enum Op {
    Assign {
        user: usize,
        serial: usize,
        app: bool,
    },
    Unassign {
        serial: usize,
    },
    Activate {
        user: usize,
        serial: usize,
    },
    /// Tries to bypass the directory: adds through the record, claiming
    /// nobody owns the token.
    ModifyAdd {
        user: usize,
        serial: usize,
    },
    ModifyRemove {
        user: usize,
        serial: usize,
    },
    RemoveUser {
        user: usize,
    },
    InsertUser {
        user: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    let s = 0..SERIALS;
    prop_oneof![
        4 => (u.clone(), s.clone(), any::<bool>())
            .prop_map(|(user, serial, app)| Op::Assign { user, serial, app }),
        2 => s.clone().prop_map(|serial| Op::Unassign { serial }),
        1 => (u.clone(), s.clone()).prop_map(|(user, serial)| Op::Activate { user, serial }),
        2 => (u.clone(), s.clone()).prop_map(|(user, serial)| Op::ModifyAdd { user, serial }),
        1 => (u.clone(), s.clone()).prop_map(|(user, serial)| Op::ModifyRemove { user, serial }),
        1 => u.clone().prop_map(|user| Op::RemoveUser { user }),
        1 => u.prop_map(|user| Op::InsertUser { user }),
    ]
}

fn uid(i: usize) -> UserId {
    UserId::new(USERS[i]).unwrap()
}
fn serial(i: usize) -> TokenSerial {
    TokenSerial::new(format!("SN{i:04}")).unwrap()
}

/// The reference model: which user owns which serial, and which users exist.
#[derive(Default)]
struct Model {
    users: [bool; USERS.len()],
    owner: BTreeMap<usize, usize>,
}

impl Model {
    fn count(&self, user: usize) -> usize {
        self.owner.values().filter(|&&u| u == user).count()
    }
    /// Whether adding `serial` to `user` must succeed.
    fn can_add(&self, user: usize, serial: usize) -> bool {
        self.users[user] && !self.owner.contains_key(&serial) && self.count(user) < MAX_OATH_TOKENS
    }
}

fn check_invariants(dir: &UserDirectory, model: &Model) {
    let mut seen = BTreeMap::new();
    for rec in dir.users() {
        assert!(rec.oath_tokens().len() <= MAX_OATH_TOKENS, "{rec:?}");
        for t in rec.oath_tokens() {
            assert!(
                seen.insert(t.serial.clone(), rec.id().clone()).is_none(),
                "token {} held by two users",
                t.serial
            );
            assert_eq!(dir.owner_of(&t.serial), Some(rec.id()));
        }
    }
    for s in 0..SERIALS {
        let want = model.owner.get(&s).map(|&u| uid(u));
        assert_eq!(dir.owner_of(&serial(s)), want.as_ref(), "serial {s}");
        assert_eq!(seen.get(&serial(s)), want.as_ref());
    }
    for (i, exists) in model.users.iter().enumerate() {
        assert_eq!(dir.get(&uid(i)).is_some(), *exists);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the sequence of operations, no user ever has more than five
    /// tokens, no token has two owners, and every operation succeeds exactly
    /// when the reference model says it must.
    #[test]
    fn never_more_than_five_tokens_nor_two_owners(ops in proptest::collection::vec(op(), 1..80)) {
        let mut dir = UserDirectory::new();
        let mut model = Model::default();
        for (i, _) in USERS.iter().enumerate() {
            dir.insert(UserRecord::new(uid(i))).unwrap();
            model.users[i] = true;
        }
        for op in ops {
            match op {
                Op::Assign { user, serial: s, app } => {
                    let kind = if app { OathTokenKind::App } else { OathTokenKind::Hardware };
                    let r = dir.assign_token(&uid(user), OathToken::new(serial(s), kind));
                    let expect_ok = model.can_add(user, s);
                    prop_assert_eq!(r.is_ok(), expect_ok, "{:?}", r);
                    if expect_ok {
                        model.owner.insert(s, user);
                    } else if !model.users[user] {
                        prop_assert!(matches!(r, Err(Error::UnknownUser { .. })), "{:?}", r);
                    } else if model.owner.get(&s).is_some_and(|&o| o != user) {
                        prop_assert!(matches!(r, Err(Error::TokenAssignedToOtherUser { .. })), "{:?}", r);
                    } else if model.owner.get(&s) == Some(&user) {
                        prop_assert!(matches!(r, Err(Error::TokenAlreadyAssigned { .. })), "{:?}", r);
                    } else {
                        prop_assert!(matches!(r, Err(Error::TooManyOathTokens { max: 5, .. })), "{:?}", r);
                    }
                }
                Op::Unassign { serial: s } => {
                    let r = dir.unassign_token(&serial(s));
                    let owner = model.owner.remove(&s);
                    prop_assert_eq!(r.ok().map(|(u, t)| (u, t.serial)), owner.map(|u| (uid(u), serial(s))));
                }
                Op::Activate { user, serial: s } => {
                    let r = dir.modify(&uid(user), |rec| rec.activate_oath_token(&serial(s), UnixTime::from_secs(1)));
                    prop_assert_eq!(r.is_ok(), model.users[user] && model.owner.get(&s) == Some(&user));
                }
                Op::ModifyAdd { user, serial: s } => {
                    let r = dir.modify(&uid(user), |rec| {
                        rec.add_oath_token(OathToken::new(serial(s), OathTokenKind::App), None)
                    });
                    let expect_ok = model.can_add(user, s);
                    prop_assert_eq!(r.is_ok(), expect_ok, "{:?}", r);
                    if expect_ok {
                        model.owner.insert(s, user);
                    }
                }
                Op::ModifyRemove { user, serial: s } => {
                    let r = dir.modify(&uid(user), |rec| rec.remove_oath_token(&serial(s)));
                    let expect_ok = model.users[user] && model.owner.get(&s) == Some(&user);
                    prop_assert_eq!(r.is_ok(), expect_ok);
                    if expect_ok {
                        model.owner.remove(&s);
                    }
                }
                Op::RemoveUser { user } => {
                    let r = dir.remove(&uid(user));
                    prop_assert_eq!(r.is_ok(), model.users[user]);
                    model.users[user] = false;
                    model.owner.retain(|_, u| *u != user);
                }
                Op::InsertUser { user } => {
                    let r = dir.insert(UserRecord::new(uid(user)));
                    prop_assert_eq!(r.is_ok(), !model.users[user]);
                    model.users[user] = true;
                }
            }
            check_invariants(&dir, &model);
        }
    }

    /// A lone record (the store's path, which passes the owner it read)
    /// never holds more than five tokens either.
    #[test]
    fn record_alone_never_exceeds_five(ops in proptest::collection::vec((any::<bool>(), 0..12usize), 1..60)) {
        let mut rec = UserRecord::new(uid(0));
        let mut model = std::collections::BTreeSet::new();
        for (add, s) in ops {
            if add {
                let r = rec.add_oath_token(OathToken::new(serial(s), OathTokenKind::Hardware), None);
                let expect_ok = !model.contains(&s) && model.len() < MAX_OATH_TOKENS;
                prop_assert_eq!(r.is_ok(), expect_ok);
                if expect_ok {
                    model.insert(s);
                }
            } else {
                let r = rec.remove_oath_token(&serial(s));
                prop_assert_eq!(r.is_ok(), model.remove(&s));
            }
            prop_assert!(rec.oath_tokens().len() <= MAX_OATH_TOKENS);
            prop_assert_eq!(rec.oath_tokens().len(), model.len());
        }
    }
}

// ----- the CSV log -----

/// Text without control characters, often starting with a formula trigger
/// or a quote.
fn text(max: usize) -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "", "=", "+", "-", "@", "'", "''", "'=", " ", "\""]),
        proptest::string::string_regex(&format!("[^\\p{{Cc}}]{{0,{max}}}")).unwrap(),
    )
        .prop_map(|(prefix, rest)| format!("{prefix}{rest}"))
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn reason() -> impl Strategy<Value = DenialReason> {
    (
        prop::sample::select(DenialKind::ALL.to_vec()),
        prop::option::of(any::<u64>()),
        0u64..=255,
    )
        .prop_filter_map("kind and detail must fit", |(kind, detail, small)| {
            DenialReason::from_parts(kind, detail)
                .or_else(|_| DenialReason::from_parts(kind, Some(small)))
                .or_else(|_| DenialReason::from_parts(kind, None))
                .ok()
        })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::from(v.to_be_bytes())),
        any::<u128>().prop_map(|v| IpAddr::from(v.to_be_bytes())),
    ]
}

fn event() -> impl Strategy<Value = AuthEvent> {
    let mode = prop::sample::select(AuthMode::ALL.to_vec());
    let result = prop_oneof![
        Just(AuthResult::Success),
        reason().prop_map(AuthResult::Denied)
    ];
    (
        (any::<u64>(), text(30), mode, result, text(20), ip()),
        (
            prop::option::of(text(12)),
            prop::option::of(text(12)),
            prop::option::of(("[a-z=+'-]{1,8}", "[a-z.=-]{1,8}")),
            prop::option::of("\\+?[0-9 ()-]{8,15}"),
            prop::option::of("[!-~]{1,40}"),
            prop::option::of(ip()),
        ),
    )
        .prop_map(
            |(
                (time, user, mode, result, server, server_ip),
                (first, last, email, phone, token, client),
            )| {
                let mut a = AuthAttempt::new(
                    UnixTime::from_secs(time),
                    UserId::new(user).unwrap(),
                    mode,
                    result,
                    ServerName::new(server).unwrap(),
                    server_ip,
                );
                a.first_name = first.map(|s| PersonName::new(s).unwrap());
                a.last_name = last.map(|s| PersonName::new(s).unwrap());
                a.email = email.map(|(l, d)| Email::new(format!("{l}@{d}")).unwrap());
                if mode.uses_phone() {
                    a.phone = phone.and_then(|p| PhoneNumber::new(p).ok());
                }
                if mode.uses_device_token() {
                    a.device_token = token.map(|t| DeviceToken::new(t).unwrap());
                }
                a.client_ip = client;
                AuthEvent::record(a, &FieldPolicy::all()).unwrap()
            },
        )
}

fn policy() -> impl Strategy<Value = FieldPolicy> {
    (any::<[bool; 7]>()).prop_map(|b| {
        let mut p = FieldPolicy::all();
        p.name = b[0];
        p.email = b[1];
        p.phone = b[2];
        p.device_token = b[3];
        p.client_ip = b[4];
        p.phone_export = if b[5] {
            PhoneExport::Full
        } else {
            PhoneExport::Masked
        };
        p.device_token_export = if b[6] {
            DeviceTokenExport::Full
        } else {
            DeviceTokenExport::Hashed
        };
        p
    })
}

const TRIGGERS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Export then import gives back exactly the exported rows, and the
    /// header names exactly the columns the policy records.
    #[test]
    fn csv_round_trip(events in proptest::collection::vec(event(), 0..12), policy in policy()) {
        let mut out = Vec::new();
        write_log_csv(&mut out, &events, &policy).unwrap();
        let rows = read_log_csv(&out[..], &CsvLimits::default()).unwrap();
        let want: Vec<LogRow> = events.iter().map(|e| LogRow::from_event(e, &policy)).collect();
        prop_assert_eq!(&rows, &want);
        let text = String::from_utf8(out).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        prop_assert_eq!(header.contains(&"email"), policy.email);
        prop_assert_eq!(header.contains(&"first_name"), policy.name);
        prop_assert_eq!(header.contains(&"phone"), policy.phone);
        prop_assert_eq!(header.contains(&"device_token"), policy.device_token);
        prop_assert_eq!(header.contains(&"client_ip"), policy.client_ip);
        for (row, event) in rows.iter().zip(&events) {
            // Masked/hashed unless the policy says otherwise.
            if let (Some(p), Some(orig)) = (&row.phone, event.phone()) {
                match policy.phone_export {
                    PhoneExport::Masked => prop_assert_eq!(p, &orig.masked()),
                    _ => prop_assert_eq!(p, orig.as_str()),
                }
            }
            if let (Some(t), Some(orig)) = (&row.device_token, event.device_token()) {
                match policy.device_token_export {
                    DeviceTokenExport::Hashed => {
                        prop_assert_eq!(t, &format!("sha256:{}", orig.sha256_hex()));
                        prop_assert!(!text.contains(orig.as_str()) || orig.as_str().len() < 4);
                    }
                    _ => prop_assert_eq!(t, orig.as_str()),
                }
            }
        }
    }

    /// No cell of an exported log starts a formula, whatever the content.
    #[test]
    fn no_formula_injection(events in proptest::collection::vec(event(), 1..8), policy in policy()) {
        let mut out = Vec::new();
        write_log_csv(&mut out, &events, &policy).unwrap();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
        for rec in reader.records() {
            for cell in rec.unwrap().iter() {
                prop_assert!(!cell.starts_with(TRIGGERS), "{:?}", cell);
            }
        }
    }

    /// Neutralising any string at all (control characters included) gives a
    /// safe cell, and is undone exactly.
    #[test]
    fn neutralise_is_safe_and_reversible(
        s in (
            prop::sample::select(vec!["", "=", "+", "-", "@", "\t", "\r", "\n", "'", "'=", "a"]),
            ".*",
        ).prop_map(|(p, rest)| format!("{p}{rest}"))
    ) {
        let n = neutralise_cell(&s);
        prop_assert!(!n.starts_with(TRIGGERS));
        prop_assert_eq!(unneutralise_cell(&n), s.as_str());
    }

    /// The reader never panics, whatever the bytes.
    #[test]
    fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_log_csv(&bytes[..], &CsvLimits::default());
    }

    /// Nor on a valid log with bytes changed.
    #[test]
    fn reader_never_panics_on_mutated_logs(
        events in proptest::collection::vec(event(), 1..4),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut out = Vec::new();
        write_log_csv(&mut out, &events, &FieldPolicy::all()).unwrap();
        for (i, b) in edits {
            let i = i.index(out.len());
            out[i] = b;
        }
        let _ = read_log_csv(&out[..], &CsvLimits::default());
    }
}
