//! Limits and bad input, on SQLite and on PostgreSQL + Redis: rate limits
//! per address and per token (with trusted proxies), body limits, malformed
//! JSON, unknown fields and bad parameters all give a 4xx with a message.

mod common;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use common::{Backend, Harness, send, wasm_request};

async fn rate_limits(backend: Backend) {
    let harness = Harness::start(backend, |c| {
        c.anon_rps = 5.0;
        c.anon_burst = 10.0;
        c.keyed_rps = 20.0;
        c.keyed_burst = 40.0;
    })
    .await;
    let health = format!("{}/health", harness.url());
    // A forged X-Forwarded-For from an untrusted peer does not buy a new bucket.
    let mut statuses = Vec::new();
    for i in 0..11 {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", format!("10.0.0.{i}").parse().unwrap());
        let (status, headers, _) = send(&health, Method::GET, None, None, headers).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = headers[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
        }
        statuses.push(status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses[10], 429);
    // A worker token has its own, larger bucket (40, refilling at 20/s
    // while the loop runs).
    // Retries off: the client would otherwise wait out each 429.
    let client = harness.client.clone().with_retries(0);
    let started = std::time::Instant::now();
    let mut ok = 0;
    loop {
        match client.stats().await {
            Ok(_) => ok += 1,
            Err(e) if e.is_rate_limited() => break,
            Err(e) => panic!("{e}"),
        }
        assert!(ok < 1_000, "keyed requests were never limited");
    }
    let refilled = (started.elapsed().as_secs_f64() * 20.0).ceil() as u32;
    assert!(
        (40..=40 + refilled).contains(&ok),
        "{ok} keyed requests passed"
    );
    harness.stop().await;

    // Behind a trusted proxy, each forwarded client has its own bucket.
    let proxied = Harness::start(backend, |c| {
        c.anon_rps = 5.0;
        c.anon_burst = 2.0;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let health = format!("{}/health", proxied.url());
    for client in ["192.0.2.1", "192.0.2.2"] {
        for expected in [200, 200, 429] {
            let mut headers = HeaderMap::new();
            headers.insert("x-forwarded-for", client.parse().unwrap());
            let (status, _, _) = send(&health, Method::GET, None, None, headers).await;
            assert_eq!(status.as_u16(), expected, "client {client}");
        }
    }
    proxied.stop().await;
}

async fn bad_input(backend: Backend) {
    let harness = Harness::start(backend, |c| c.max_body_bytes = 4_096).await;
    let base = harness.url();
    let token = Some(harness.token.as_str());
    let json_headers = || {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h
    };
    // A body that is not declared as JSON.
    let text_headers = || {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h
    };
    let cases: Vec<(Method, String, Option<String>, HeaderMap, u16)> = vec![
        (
            Method::POST,
            "/jobs/poll".into(),
            Some("{not json".into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/poll".into(),
            Some(r#"{"worker_id":"w","capabilities":["execute"],"surprise":1}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/poll".into(),
            Some(r#"{"worker_id":"w","capabilities":["fly"]}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/poll".into(),
            Some(r#"{"worker_id":"w","capabilities":[]}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/poll".into(),
            Some(r#"{"worker_id":"w","capabilities":["execute"]}"#.into()),
            text_headers(),
            400,
        ),
        (
            Method::POST,
            "/executions".into(),
            Some(format!(r#"{{"request":"{}"}}"#, "x".repeat(5_000))),
            json_headers(),
            413,
        ),
        (
            Method::POST,
            "/executions".into(),
            Some(r#"{"request":{}}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/abc/heartbeat".into(),
            Some(r#"{"lease_token":"t"}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/99/heartbeat".into(),
            Some(r#"{"lease_token":"t"}"#.into()),
            json_headers(),
            409,
        ),
        (
            Method::POST,
            "/jobs/99/complete".into(),
            Some(r#"{"lease_token":"t","success":true}"#.into()),
            json_headers(),
            404,
        ),
        (
            Method::POST,
            "/jobs/99/complete".into(),
            Some(r#"{"lease_token":"t","success":false}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::POST,
            "/jobs/18446744073709551615/complete".into(),
            Some(r#"{"lease_token":"t","success":true}"#.into()),
            json_headers(),
            400,
        ),
        (
            Method::GET,
            "/public/jobs?state=bogus".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/public/jobs?limit=0".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/public/jobs?limit=-1".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/public/jobs?offset=99999999999999999999".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/public/artifacts/nothex/exists".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/monitor/cursor/a%20b".into(),
            None,
            HeaderMap::new(),
            400,
        ),
        (
            Method::GET,
            "/no/such/route".into(),
            None,
            HeaderMap::new(),
            404,
        ),
        (
            Method::POST,
            "/secrets/pubkey".into(),
            Some("not json".into()),
            json_headers(),
            400,
        ),
        // Answers the framework makes itself get the same body.
        (
            Method::DELETE,
            "/jobs/poll".into(),
            None,
            HeaderMap::new(),
            405,
        ),
        (
            Method::POST,
            "/executions".into(),
            Some("x".repeat(2 << 20)),
            json_headers(),
            413,
        ),
    ];
    for (method, path, body, headers, expected) in cases {
        let (status, _, value) = send(
            &format!("{base}{path}"),
            method.clone(),
            token,
            body.as_deref(),
            headers,
        )
        .await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {value}");
        let code = match expected {
            400 => "bad_request",
            404 => "not_found",
            405 => "method_not_allowed",
            409 => "conflict",
            413 => "payload_too_large",
            other => panic!("no code listed for {other}"),
        };
        assert_eq!(value["error"], code, "{method} {path}: {value}");
        assert!(
            value["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {path} has a message: {value}"
        );
    }
    // Sources the contract would refuse are refused with its message.
    for source in [
        outlayer_types::CodeSource::WasmUrl {
            url: "file:///etc/passwd".into(),
            hash: "ab".repeat(32),
            build_target: outlayer_types::BuildTarget::Wasip1,
        },
        outlayer_types::CodeSource::WasmUrl {
            url: "https://example.org/p.wasm".into(),
            hash: "zz".into(),
            build_target: outlayer_types::BuildTarget::Wasip1,
        },
        outlayer_types::CodeSource::GitHub {
            repo: "not a repository".into(),
            commit: "main".into(),
            build_target: outlayer_types::BuildTarget::Wasip1,
        },
    ] {
        let mut request = wasm_request(7);
        request.code_source = source;
        let refused = harness.client.create_execution(&request).await.unwrap_err();
        assert!(refused.is_bad_request(), "{refused}");
        assert!(
            refused.to_string().contains("invalid code_source"),
            "{refused}"
        );
    }
    // An out-of-range request id is refused, not half-written.
    let mut request = wasm_request(1);
    request.context.request_id = u64::MAX;
    assert!(matches!(
        harness.client.create_execution(&request).await,
        Err(e) if e.is_bad_request()
    ));
    assert_eq!(harness.client.stats().await.unwrap().requests_total, 0);
    harness.stop().await;
}

both_backends!(rate_limits, bad_input);
