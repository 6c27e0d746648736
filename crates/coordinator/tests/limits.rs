//! Limits and bad input, on SQLite and on PostgreSQL + Redis: rate limits
//! per address and per token (with trusted proxies), body limits, malformed
//! JSON, unknown fields and bad parameters all give a 4xx with a message.

mod common;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use common::{Backend, Harness, manual_clock, send, wasm_request};

async fn rate_limits(backend: Backend) {
    let harness = Harness::start(backend, |c| {
        c.anon_rps = 5.0;
        c.anon_burst = 10.0;
        c.keyed_rps = 20.0;
        c.keyed_burst = 40.0;
    })
    .await;
    let health = format!("{}/health", harness.url());
    // The worker token's first request: looked up (the address has room)
    // and remembered.
    harness.client.stats().await.unwrap();
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
    // A worker token has its own, larger bucket (40, one taken above,
    // refilling at 20/s while the loop runs), untouched by its address's
    // refusal since the token is remembered.
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
        (39..=39 + refilled).contains(&ok),
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

/// Bearer tokens the coordinator does not know are looked up in the store
/// only while their address has room in its bucket: a flood of made-up
/// tokens from a refused address never reaches the store. Live tokens are
/// remembered, and one revoked by another process (the token CLI) stops
/// working within --token-cache-ms.
async fn unknown_tokens_are_limited_first(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| {
        c.anon_rps = 0.5;
        c.anon_burst = 3.0;
        c.token_cache_ms = 3_000;
        c.clock = clock.clone();
    })
    .await;
    let url = format!("{}/jobs/poll", harness.url());
    let body = r#"{"worker_id": "w", "capabilities": ["execute"], "timeout_ms": 0}"#;
    let lookups = || harness.coordinator().metrics.token_lookups();
    let made_up = |i: u32| format!("olw_{i:064}");
    // The address has room for three: each made-up token is looked up once
    // and refused as a bad token.
    for i in 0..3 {
        let (status, _, error) = send(
            &url,
            Method::POST,
            Some(&made_up(i)),
            Some(body),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error["error"], "unauthorized");
    }
    assert_eq!(lookups(), 3);
    // Now the address is refused: fifty more never reach the store.
    for i in 3..53 {
        let (status, headers, error) = send(
            &url,
            Method::POST,
            Some(&made_up(i)),
            Some(body),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "token {i}");
        assert_eq!(error["error"], "rate_limited");
        assert!(headers.contains_key(header::RETRY_AFTER));
    }
    assert_eq!(
        lookups(),
        3,
        "no made-up token from a refused address was looked up"
    );
    // Once the address has room again, a live token is looked up once and
    // then remembered: it keeps working while made-up tokens empty the
    // address's bucket again. At 0.5 per second, one token takes 2 s.
    clock.advance(std::time::Duration::from_millis(2_000));
    let client = harness.client.clone().with_retries(0);
    let poll = |client: &outlayer_coordinator_client::CoordinatorClient| {
        let client = client.clone();
        async move {
            client
                .poll("w", &[outlayer_types::coordinator::JobType::Execute], 0)
                .await
        }
    };
    assert_eq!(poll(&client).await.unwrap(), None);
    assert_eq!(lookups(), 4);
    for i in 100..110 {
        send(
            &url,
            Method::POST,
            Some(&made_up(i)),
            Some(body),
            HeaderMap::new(),
        )
        .await;
    }
    for _ in 0..5 {
        assert_eq!(poll(&client).await.unwrap(), None);
    }
    // The first made-up token took the address's one token (and a lookup),
    // the other nine were refused unlooked; the live token was remembered.
    assert_eq!(lookups(), 5);
    // Revoked by another process (a second connection to the store, as
    // the token CLI has): still taken for the 3 s it is remembered for,
    // refused once they are over.
    let other = outlayer_coordinator::store::Store::connect(&harness.config.store_url())
        .await
        .unwrap();
    assert!(
        outlayer_coordinator::tokens::revoke(&other, "test-worker")
            .await
            .unwrap()
    );
    other.close().await;
    clock.advance(std::time::Duration::from_millis(2_999));
    assert_eq!(poll(&client).await.unwrap(), None);
    clock.advance(std::time::Duration::from_millis(1));
    let refused = poll(&client).await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused}");
    harness.stop().await;
}

/// `POST /executions` refuses what the contract would never announce:
/// fields nobody knows anywhere in the request (not dropped silently), and
/// requests beyond the contract's caps, each with a 400 `bad_request` and
/// the contract's message. Nothing refused is recorded.
async fn strict_executions(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let url = format!("{}/executions", harness.url());
    let token = Some(harness.token.as_str());
    let request = |id: u64| serde_json::to_value(wasm_request(id)).unwrap();
    let post = |body: serde_json::Value| {
        let url = url.clone();
        async move {
            let body = serde_json::json!({ "request": body }).to_string();
            send(&url, Method::POST, token, Some(&body), HeaderMap::new()).await
        }
    };
    let mut refused = Vec::new();
    // Unknown fields, at every depth.
    let mut typo = request(1);
    typo["input_dta"] = "{}".into();
    refused.push((typo, "unknown field `request.input_dta`".to_owned()));
    let mut in_context = request(2);
    in_context["context"]["sender"] = "bob.near".into();
    refused.push((
        in_context,
        "unknown field `request.context.sender`".to_owned(),
    ));
    let mut in_source = request(3);
    in_source["code_source"]["WasmUrl"]["mirror"] = "https://x.org".into();
    refused.push((
        in_source,
        "unknown field `request.code_source.WasmUrl.mirror`".to_owned(),
    ));
    let mut in_secrets = request(4);
    in_secrets["secrets_ref"] =
        serde_json::json!({ "profile": "p", "account_id": "alice.near", "key": 1 });
    refused.push((
        in_secrets,
        "unknown field `request.secrets_ref.key`".to_owned(),
    ));
    // The contract's caps, with its messages.
    let mut instructions = request(5);
    instructions["resource_limits"]["max_instructions"] = 10_000_000_000_000_000_000u64.into();
    refused.push((
        instructions,
        "invalid resource_limits: max_instructions 10000000000000000000 is above the cap 10000000000"
            .to_owned(),
    ));
    let mut memory = request(6);
    memory["resource_limits"]["max_memory_mb"] = 0.into();
    refused.push((
        memory,
        "invalid resource_limits: max_memory_mb must be at least 1".to_owned(),
    ));
    let mut seconds = request(7);
    seconds["resource_limits"]["max_execution_seconds"] = 61.into();
    refused.push((
        seconds,
        "invalid resource_limits: max_execution_seconds 61 is above the cap 60".to_owned(),
    ));
    let mut input = request(8);
    input["input_data"] = "a".repeat(64 * 1024 + 1).into();
    refused.push((
        input,
        "input_data is 65537 bytes, above the cap 65536".to_owned(),
    ));
    // An input the contract keeps in its state never appears in the event.
    let mut in_state = request(9);
    in_state["input_data"] = "\"".repeat(5 * 1024).into();
    refused.push((
        in_state,
        "input_data takes 10242 bytes in the event; the contract keeps an input of 10240 bytes or more in its state (input_in_state)"
            .to_owned(),
    ));
    let mut both = request(10);
    both["input_in_state"] = true.into();
    refused.push((
        both,
        "input_data must be absent when input_in_state is true: the input stays in contract state"
            .to_owned(),
    ));
    let mut profile = request(11);
    profile["secrets_ref"] =
        serde_json::json!({ "profile": "no spaces", "account_id": "alice.near" });
    refused.push((
        profile,
        "invalid secrets_ref: profile name \"no spaces\" must be 1-64 characters of [A-Za-z0-9_-]"
            .to_owned(),
    ));
    let mut compile = request(12);
    compile["max_compile_seconds"] = 121.into();
    refused.push((
        compile,
        "max_compile_seconds 121 is above the cap 120".to_owned(),
    ));
    let mut no_compile = request(13);
    no_compile["max_compile_seconds"] = 0.into();
    refused.push((
        no_compile,
        "max_compile_seconds must be at least 1".to_owned(),
    ));
    for (body, message) in refused {
        let (status, _, error) = post(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{message}: {error}");
        assert_eq!(error["error"], "bad_request", "{message}");
        assert_eq!(error["message"], message.as_str());
    }
    assert_eq!(harness.client.stats().await.unwrap().requests_total, 0);
    // Every known field, optional ones written out as null, and requests at
    // the caps are accepted.
    let mut full = request(20);
    for key in ["input_data", "secrets_ref", "max_compile_seconds"] {
        full[key] = serde_json::Value::Null;
    }
    full["context"]["transaction_hash"] = serde_json::Value::Null;
    let mut at_caps = request(21);
    at_caps["resource_limits"] = serde_json::json!({
        "max_instructions": 10_000_000_000u64, "max_memory_mb": 512, "max_execution_seconds": 60 });
    at_caps["input_data"] = "a".repeat(10_000).into();
    at_caps["max_compile_seconds"] = 120.into();
    at_caps["secrets_ref"] =
        serde_json::json!({ "profile": "default", "account_id": "alice.near" });
    let mut large = request(22);
    large["input_data"] = serde_json::Value::Null;
    large["input_in_state"] = true.into();
    for body in [full, at_caps, large] {
        let (status, _, answer) = post(body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    assert_eq!(harness.client.stats().await.unwrap().requests_total, 3);
    harness.stop().await;

    // Caps the contract's owner raised are configured, and then accepted.
    let raised = Harness::start(backend, |c| {
        c.contract_max_limits.0.max_instructions = 20_000_000_000;
    })
    .await;
    let mut request = wasm_request(1);
    request.resource_limits.max_instructions = 20_000_000_000;
    raised.client.create_execution(&request).await.unwrap();
    request.context.request_id = 2;
    request.resource_limits.max_instructions = 20_000_000_001;
    let refused = raised.client.create_execution(&request).await.unwrap_err();
    assert!(refused.is_bad_request(), "{refused}");
    raised.stop().await;
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

both_backends!(
    rate_limits,
    unknown_tokens_are_limited_first,
    strict_executions,
    bad_input
);
