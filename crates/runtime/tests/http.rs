//! P2 `wasi:http` through the network policy, against a local server that
//! the tests allow explicitly, and the SSRF cases that must be refused.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{example, runtime};
use outlayer_runtime::{ErrorKind, Execution, HttpPolicy};
use serde_json::{Value, json};

/// A one-thread HTTP/1.1 server answering every request with `body`.
fn serve(body: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

async fn fetch(url: &str, http: HttpPolicy) -> outlayer_runtime::Outcome {
    runtime()
        .execute(
            example("http-fetch"),
            Execution {
                input: url.as_bytes().to_vec(),
                http,
                ..Execution::default()
            },
        )
        .await
}

fn allow(hosts: &[&str]) -> HttpPolicy {
    HttpPolicy {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..HttpPolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fetches_from_an_explicitly_allowed_local_server() {
    let port = serve(b"hello from the test server".to_vec());
    let outcome = fetch(
        &format!("http://127.0.0.1:{port}/path?q=1"),
        allow(&["127.0.0.1"]),
    )
    .await;
    assert_eq!(outcome.error, None, "stderr: {}", outcome.stderr);
    let Some(outlayer_types::ExecutionOutput::Text(text)) = &outcome.output else {
        panic!()
    };
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        value,
        json!({"status": 200, "body": "hello from the test server"})
    );
}

async fn assert_refused(url: &str, policy: HttpPolicy, code: &str) {
    let outcome = fetch(url, policy).await;
    let error = outcome.error.as_ref().expect("refused");
    assert_eq!(
        (error.kind, outcome.exit_code),
        (ErrorKind::Exit, Some(1)),
        "{url}"
    );
    assert!(
        outcome.stderr.contains(code),
        "{url}: expected {code} in {:?}",
        outcome.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn private_and_reserved_destinations_are_refused() {
    let port = serve(b"secret internal data".to_vec());
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"), // a name that resolves to loopback
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://127.1:{port}/"), // shorthand the resolver expands
        format!("http://2130706433:{port}/"), // 127.0.0.1 as one decimal number
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://10.0.0.1/".into(),
        "http://100.64.0.1/".into(),
        "http://0.0.0.0/".into(),
        "http://[::1]/".into(),
    ] {
        assert_refused(&url, HttpPolicy::default(), "DestinationIpProhibited").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_lists_counts_and_switches_are_enforced() {
    let port = serve(b"x".to_vec());
    let url = format!("http://127.0.0.1:{port}/");
    // Only the listed host.
    assert_refused(&url, allow(&["example.com"]), "HttpRequestDenied").await;
    // A listed name never unlocks a private address, only an IP literal does.
    assert_refused(
        &format!("http://127.1:{port}/"),
        allow(&["127.1"]),
        "DestinationIpProhibited",
    )
    .await;
    // No requests left.
    assert_refused(
        &url,
        HttpPolicy {
            max_requests: 0,
            ..allow(&["127.0.0.1"])
        },
        "HttpRequestDenied",
    )
    .await;
    // Network off.
    assert_refused(&url, HttpPolicy::disabled(), "HttpRequestDenied").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn response_bodies_are_capped() {
    let port = serve(vec![b'a'; 100_000]);
    let policy = HttpPolicy {
        max_response_bytes: 1000,
        ..allow(&["127.0.0.1"])
    };
    // The cap fails the body stream. wasmtime-wasi-http 48 hands body
    // errors to the guest as its own `Error` (no `error-code` attached), so
    // the guest sees this message rather than `HttpResponseBodySize`.
    assert_refused(
        &format!("http://127.0.0.1:{port}/"),
        policy,
        "HTTP response body size exceeds limit: 1000 bytes",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_response_body_times_out_between_bytes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nx");
            // Hold the connection open without sending the rest.
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
    });
    let policy = HttpPolicy {
        request_timeout: std::time::Duration::from_millis(300),
        ..allow(&["127.0.0.1"])
    };
    let started = std::time::Instant::now();
    assert_refused(
        &format!("http://127.0.0.1:{port}/"),
        policy,
        "connection read timeout",
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}
