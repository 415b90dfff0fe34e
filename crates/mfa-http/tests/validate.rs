//! The validate API through the router (tower `oneshot`), mounted inside
//! another axum app.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

mod common;

use axum::Router;
use axum::http::StatusCode;
use common::*;
use mfa_http::{ApiTokenHash, HttpConfig, RateLimit};
use serde_json::json;

fn nested(f: &Fixture, config: HttpConfig) -> Router {
    // Another service's app, with its own route, the validate API under /mfa.
    Router::new()
        .route("/", axum::routing::get(|| async { "host app" }))
        .nest("/mfa", f.router(config))
}

#[tokio::test]
async fn mounted_under_mfa_accept_then_replay_then_wrong() {
    let f = Fixture::new();
    let app = nested(&f, unlimited());
    let (s, body) = call(&app, get("/")).await;
    assert_eq!((s, body), (StatusCode::OK, json!("host app")));

    let code = f.code();
    let (s, v) = call(
        &app,
        form(
            "/mfa/validate/check",
            &format!("user=alice&realm=corp&pass={code}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], 2);
    assert_eq!(
        v["result"],
        json!({"status": true, "value": true, "authentication": "ACCEPT"})
    );
    assert_eq!(v["detail"]["message"], "matching 1 tokens");
    assert_eq!(v["detail"]["serial"], "T-ALICE");
    assert!(v["version"].as_str().unwrap().starts_with("mfa-kit "));
    assert!(v["time"].is_number());

    let (s, v) = call(
        &app,
        form("/mfa/validate/check", &format!("user=alice&pass={code}")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["result"],
        json!({"status": true, "value": false, "authentication": "REJECT"})
    );
    assert_eq!(
        v["detail"]["message"],
        "wrong otp value. previous otp used again"
    );
    assert_eq!(v["detail"]["reason"], "code_replayed");
    assert_eq!(v["detail"]["serial"], "T-ALICE");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (_, v) = call(
        &app,
        form("/mfa/validate/check", &format!("user=alice&pass={wrong}")),
    )
    .await;
    assert_eq!(auth(&v), "REJECT");
    assert_eq!(v["detail"]["message"], "wrong otp value");
    // Not under /mfa: not ours.
    let (s, _) = call(&app, form("/validate/check", "user=alice&pass=1")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn json_get_and_serial_requests() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let (_, v) = call(
        &app,
        json(
            "/validate/check",
            &json!({"user": "bob", "pass": f.hotp.generate(1).to_string(), "extra": [1]}),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    let (_, v) = call(
        &app,
        get(&format!(
            "/validate/check?user=bob&pass={}&unknown=x",
            f.hotp.generate(2)
        )),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    // A JSON number for pass works as privacyIDEA's does.
    let n: u64 = f.hotp.generate(3).to_string().parse().unwrap();
    if n >= 100_000 {
        let (_, v) = call(
            &app,
            json("/validate/check", &json!({"user": "bob", "pass": n})),
        )
        .await;
        assert_eq!(auth(&v), "ACCEPT", "{v}");
    }
    // By serial alone, and a serial that is not the user's.
    f.advance(30);
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("serial=T-ALICE&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    let (_, v) = call(
        &app,
        form("/validate/check", "serial=T-ALICE&user=bob&pass=123456"),
    )
    .await;
    assert_eq!(v["detail"]["reason"], "not_users_token");
    let (s, v) = call(&app, form("/validate/check", "serial=NOPE&pass=123456")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["result"]["error"]["code"], 601);
}

#[tokio::test]
async fn unknown_user_missing_parameters_and_malformed_bodies() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let (s, v) = call(&app, form("/validate/check", "user=nobody&pass=123456")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["result"]["status"], false);
    assert_eq!(v["result"]["error"]["code"], 904);
    assert_eq!(
        v["result"]["error"]["message"],
        "ERR904: User <nobody> does not exist."
    );
    assert_eq!(v["detail"], serde_json::Value::Null);

    let (s, v) = call(&app, form("/validate/check", "user=alice")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["result"]["error"],
        json!({"code": 905, "message": "ERR905: Missing parameter: 'pass'"})
    );
    let (s, v) = call(&app, form("/validate/check", "pass=123456")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["result"]["error"]["message"],
        "ERR905: You need to specify a serial, user or credential_id."
    );

    for body in ["{", "[1,2]", "\"x\"", "{\"user\": \u{0}}"] {
        let req = axum::http::Request::post("/validate/check")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap();
        let (s, v) = call(&app, req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["result"]["error"]["code"], 905);
    }
    // Bytes that are not UTF-8 in a form body: a rejection, not a panic.
    let req = axum::http::Request::post("/validate/check")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(&b"user=\xff\xfe&pass=%zz%"[..]))
        .unwrap();
    let (s, _) = call(&app, req).await;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::OK, "{s}");
    // dave has no token: REJECT with privacyIDEA's message.
    let (_, v) = call(&app, form("/validate/check", "user=dave&pass=123456")).await;
    assert_eq!(auth(&v), "REJECT");
    assert_eq!(v["detail"]["message"], "The user has no tokens assigned");
}

#[tokio::test]
async fn challenge_then_answer_with_transaction_id_single_use_and_expiring() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let (s, v) = call(&app, form("/validate/check", "user=alice&pass=")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["result"],
        json!({"status": true, "value": false, "authentication": "CHALLENGE"})
    );
    let d = &v["detail"];
    let tx = d["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(tx.len(), 20);
    assert!(tx.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(d["preferred_client_mode"], "interactive");
    assert_eq!(d["transaction_ids"], json!([tx]));
    let multi = d["multi_challenge"].as_array().unwrap();
    assert_eq!(multi.len(), 1);
    assert_eq!(multi[0]["serial"], "T-ALICE");
    assert_eq!(multi[0]["type"], "totp");
    assert_eq!(multi[0]["transaction_id"], tx.as_str());
    assert_eq!(multi[0]["client_mode"], "interactive");
    assert_eq!(d["message"], "please enter otp: ");

    // An empty answer (polling) neither approves nor ends it.
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass="),
        ),
    )
    .await;
    assert_eq!(auth(&v), "REJECT");
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    // Single use: the same transaction again is refused, even with a fresh code.
    f.advance(30);
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "REJECT");
    assert_eq!(
        v["detail"]["message"],
        "Response did not match the challenge."
    );

    // The legacy `state`, and a transaction bound to its user.
    let (_, v) = call(&app, form("/validate/check", "user=alice&pass=")).await;
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=bob&state={tx}&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "REJECT", "bound to alice");
    let (_, v) = call(&app, form("/validate/check", "user=alice&pass=")).await;
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        &app,
        form("/validate/check", &format!("state={tx}&pass={}", f.code())),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");

    // Expired after transaction_ttl.
    f.advance(30);
    let (_, v) = call(&app, form("/validate/check", "user=alice&pass=")).await;
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    f.advance(121);
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "REJECT");
    // A challenge for a user without any factor, and for an unknown user.
    let (_, v) = call(&app, form("/validate/check", "user=dave&pass=")).await;
    assert_eq!(auth(&v), "REJECT", "{v}");
    let (s, _) = call(&app, form("/validate/check", "user=nobody&pass=")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn phone_only_user_gets_an_sms_code_through_the_notifier() {
    let f = Fixture::new();
    // Without a sender the phone is not offered.
    let app = f.router(unlimited());
    let (_, v) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    assert_eq!(auth(&v), "REJECT", "{v}");
    assert_eq!(v["detail"]["reason"], "no_usable_method");

    let out = f.dir.path().join("sms.txt");
    let script = f.dir.path().join("send-sms");
    std::fs::write(&script, format!("#!/bin/sh\ncat > {}\n", out.display())).unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    let mut config = mfa_notify::NotifyConfig::default();
    config
        .apply_setting("notify.sms.command", script.to_str().unwrap())
        .unwrap();
    let notifier = std::sync::Arc::new(mfa_notify::Notifier::new(config).unwrap());
    let app = f.validate(unlimited()).with_notifier(notifier).router();
    let (_, v) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    assert_eq!(auth(&v), "CHALLENGE", "{v}");
    assert_eq!(v["detail"]["multi_challenge"][0]["type"], "sms");
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let sent = std::fs::read_to_string(&out).unwrap();
    let mut lines = sent.lines();
    assert_eq!(lines.next(), Some("+31612345678"));
    assert_eq!(lines.next(), Some("sms"));
    let message = lines.collect::<Vec<_>>().join("\n");
    let code: String = message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    // Asked again while the code is pending: nothing new is sent.
    std::fs::remove_file(&out).unwrap();
    let (_, v2) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    assert_eq!(auth(&v2), "CHALLENGE");
    assert!(!out.exists(), "a pending code is not sent twice");
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=carol&transaction_id={tx}&pass={code}"),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    // The code is single use too.
    let tx2 = v2["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=carol&transaction_id={tx2}&pass={code}"),
        ),
    )
    .await;
    assert_eq!(auth(&v), "REJECT", "{v}");
}

#[tokio::test]
async fn a_failed_sms_delivery_withdraws_the_code() {
    let f = Fixture::new();
    let out = f.dir.path().join("sms.txt");
    let fail = f.dir.path().join("fail");
    let script = f.dir.path().join("send-sms");
    // Writes what it was given, then fails while the `fail` file exists.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat > {}\n[ -e {} ] && exit 1\nexit 0\n",
            out.display(),
            fail.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    std::fs::write(&fail, "").unwrap();
    let mut config = mfa_notify::NotifyConfig::default();
    config
        .apply_setting("notify.sms.command", script.to_str().unwrap())
        .unwrap();
    let notifier = std::sync::Arc::new(mfa_notify::Notifier::new(config).unwrap());
    let app = f.validate(unlimited()).with_notifier(notifier).router();
    let code_in = |path: &std::path::Path| -> String {
        std::fs::read_to_string(path)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap()
            .to_owned()
    };

    // The sender fails: no challenge, and the code it was given is withdrawn.
    let (_, v) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    assert_eq!(auth(&v), "REJECT", "{v}");
    let lost = code_in(&out);
    // The sender works again: the next challenge sends a new code (the lost
    // one is not "pending"), and only the new one signs in.
    std::fs::remove_file(&fail).unwrap();
    std::fs::remove_file(&out).unwrap();
    let (_, v) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    assert_eq!(auth(&v), "CHALLENGE", "{v}");
    assert!(out.exists(), "a new code was sent");
    let fresh = code_in(&out);
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    if fresh != lost {
        let (_, v) = call(
            &app,
            form(
                "/validate/check",
                &format!("user=carol&transaction_id={tx}&pass={lost}"),
            ),
        )
        .await;
        assert_eq!(auth(&v), "REJECT", "the undelivered code is withdrawn: {v}");
    }
    let (_, v) = call(&app, form("/validate/check", "user=carol&pass=")).await;
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=carol&transaction_id={tx}&pass={fresh}"),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT", "{v}");
}

#[tokio::test]
async fn radiuscheck_is_204_or_400_with_empty_bodies() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let code = f.code();
    let (s, v) = call(
        &app,
        form("/validate/radiuscheck", &format!("user=alice&pass={code}")),
    )
    .await;
    assert_eq!((s, v), (StatusCode::NO_CONTENT, serde_json::Value::Null));
    for body in [
        format!("user=alice&pass={code}"),
        "user=nobody&pass=1".into(),
        "user=alice".into(),
        "user=alice&pass=".into(),
    ] {
        let (s, v) = call(&app, form("/validate/radiuscheck", &body)).await;
        assert_eq!(
            (s, v),
            (StatusCode::BAD_REQUEST, serde_json::Value::Null),
            "{body}"
        );
    }
}

#[tokio::test]
async fn triggerchallenge_and_polltransaction_need_the_api_token() {
    let f = Fixture::new();
    let mut config = unlimited();
    config
        .api_tokens
        .push(ApiTokenHash::of_token("the-api-token"));
    let app = f.router(config);
    let (s, v) = call(&app, form("/validate/triggerchallenge", "user=alice")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["result"]["error"]["code"], 4033);
    let req = axum::http::Request::post("/validate/triggerchallenge")
        .header("authorization", "Bearer wrong")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("user=alice"))
        .unwrap();
    let (s, v) = call(&app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["result"]["error"]["code"], 4031);
    let req = axum::http::Request::post("/validate/triggerchallenge")
        .header("authorization", "Bearer the-api-token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("user=alice&realm=corp"))
        .unwrap();
    let (s, v) = call(&app, req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["result"],
        json!({"status": true, "value": 1, "authentication": "CHALLENGE"})
    );
    let tx = v["detail"]["transaction_id"].as_str().unwrap().to_owned();
    let poll = |tx: &str| {
        axum::http::Request::get(format!("/validate/polltransaction?transaction_id={tx}"))
            .header("authorization", "the-api-token")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (_, v) = call(&app, poll(&tx)).await;
    assert_eq!(v["result"], json!({"status": true, "value": false}));
    assert_eq!(v["detail"]["challenge_status"], "pending");
    let (_, v) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass={}", f.code()),
        ),
    )
    .await;
    assert_eq!(auth(&v), "ACCEPT");
    let (_, v) = call(&app, poll(&tx)).await;
    assert_eq!(v["detail"]["challenge_status"], "none");
    // The polltransaction endpoint without a token.
    let (s, _) = call(
        &app,
        get(&format!("/validate/polltransaction?transaction_id={tx}")),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn body_header_and_parameter_limits() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let big = format!("user=alice&pass=1&x={}", "a".repeat(20 * 1024));
    let (s, v) = call(&app, form("/validate/check", &big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["result"]["status"], false);
    let req = axum::http::Request::post("/validate/check")
        .header("x-filler", "b".repeat(9000))
        .body(axum::body::Body::from("user=alice&pass=1"))
        .unwrap();
    let (s, _) = call(&app, req).await;
    assert_eq!(s, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let many: Vec<String> = (0..40).map(|i| format!("p{i}=1")).collect();
    let (s, _) = call(&app, form("/validate/check", &many.join("&"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&pass={}", "1".repeat(2000)),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Within the HTTP limits but refused by the store: 400, not a failure.
    for body in [
        format!("user=alice&pass={}", "1".repeat(1000)),
        format!("user={}&pass=123456", "u".repeat(1000)),
        "user=a%0Ab&pass=123456".to_owned(),
        "user=%00&pass=".to_owned(),
    ] {
        let (s, v) = call(&app, form("/validate/check", &body)).await;
        assert!(
            s == StatusCode::BAD_REQUEST || (s == StatusCode::OK && auth(&v) == "REJECT"),
            "{s} {v}"
        );
    }
    let (_, text) = call(&app, get("/metrics")).await;
    assert!(
        text.as_str()
            .unwrap()
            .contains("mfa_http_store_errors_total 0")
    );
}

#[tokio::test]
async fn the_rate_limit_refuses_a_burst_past_its_size() {
    let f = Fixture::new();
    let mut config = HttpConfig::default();
    config.rate_limit = Some(RateLimit {
        per_second: 1,
        burst: 3,
        max_clients: 100,
    });
    let app = f.router(config);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            call(&app, form("/validate/check", "user=alice&pass=000000"))
                .await
                .0,
        );
    }
    assert_eq!(&statuses[..3], &[StatusCode::OK; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    let (_, v) = call(&app, form("/validate/check", "user=alice&pass=000000")).await;
    assert_eq!(v["result"]["error"]["code"], 429);
    // healthz and metrics are not limited.
    assert_eq!(call(&app, get("/healthz")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_outcomes_and_latency() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    let code = f.code();
    call(
        &app,
        form("/validate/check", &format!("user=alice&pass={code}")),
    )
    .await;
    call(
        &app,
        form("/validate/check", &format!("user=alice&pass={code}")),
    )
    .await;
    call(&app, form("/validate/check", "user=alice&pass=")).await;
    call(&app, form("/validate/check", "user=alice")).await;
    let (s, text) = call(&app, get("/metrics")).await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap().to_owned();
    for line in [
        "mfa_http_requests_total{endpoint=\"check\",outcome=\"accept\"} 1",
        "mfa_http_requests_total{endpoint=\"check\",outcome=\"reject\"} 1",
        "mfa_http_requests_total{endpoint=\"check\",outcome=\"challenge\"} 1",
        "mfa_http_requests_total{endpoint=\"check\",outcome=\"bad_request\"} 1",
        "mfa_http_request_duration_seconds_bucket{le=\"+Inf\"} 4",
        "mfa_http_request_duration_seconds_count 4",
        "mfa_http_store_errors_total 0",
        "mfa_http_transactions 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let (s, v) = call(&app, get("/healthz")).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn a_store_call_past_its_time_limit_is_503() {
    let f = Fixture::new();
    let mut config = unlimited();
    config.store_concurrency = 1;
    config.store_timeout = std::time::Duration::from_millis(200);
    let app = f.router(config);
    // Hold the store's write lock from outside: the next call waits on it.
    let path = f.dir.path().join("mfa.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (s, v) = call(
        &app,
        form("/validate/check", &format!("user=alice&pass={}", f.code())),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["result"]["error"]["code"], 503);
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    // Wait for the blocked call to give up or finish, then the store works.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let (_, text) = call(&app, get("/metrics")).await;
    assert!(
        text.as_str()
            .unwrap()
            .contains("mfa_http_store_timeouts_total 1"),
        "{text}"
    );
}

#[tokio::test]
async fn garbage_bodies_are_answered_never_a_panic_or_a_5xx() {
    let f = Fixture::new();
    let app = f.router(unlimited());
    // A fixed pseudo-random sequence (xorshift), so a failure replays.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"user=pass&%{}\"[]:,0123456789abc\xff\x00=&transaction_id=state=serial=";
    for i in 0..300 {
        let len = (next() % 120) as usize;
        let body: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let ct = [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
        ][i % 3];
        let path = [
            "/validate/check",
            "/validate/radiuscheck",
            "/validate/triggerchallenge",
        ][(i / 3) % 3];
        let req = axum::http::Request::post(path)
            .header("content-type", ct)
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        let (s, _) = call(&app, req).await;
        assert!(
            s.as_u16() < 500,
            "{s} for {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}
