//! The client against a scripted stand-in coordinator: which failures are
//! retried, how often, how they are reported. Every test counts the requests
//! the server saw.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use outlayer_coordinator_client::{ClientError, CoordinatorClient, ErrorCode};
use outlayer_types::coordinator::*;
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
    ResponseFormat, U128,
};

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    retry_after: Option<&'static str>,
    delay: Duration,
}

fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        body: body.into(),
        retry_after: None,
        delay: Duration::ZERO,
    }
}

fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
    reply(status, serde_json::to_string(value).unwrap())
}

fn api_error(status: u16, message: &str) -> Reply {
    json(
        status,
        &ApiError {
            error: "some_code".into(),
            message: message.into(),
        },
    )
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    /// `METHOD /path?query`
    line: String,
    headers: HeaderMap,
}

/// A server answering the n-th request (from 0) with `script(n)`.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(script: impl Fn(usize) -> Reply + Clone + Send + Sync + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |request: Request| {
            let (script, log) = (script.clone(), log.clone());
            async move {
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(Seen {
                        line: format!("{} {}", request.method(), request.uri()),
                        headers: request.headers().clone(),
                    });
                    log.len() - 1
                };
                let reply = script(n);
                tokio::time::sleep(reply.delay).await;
                let mut response: Response =
                    (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                if let Some(after) = reply.retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, after.parse().unwrap());
                }
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, seen }
    }

    /// A server giving the replies in order, the last one forever after.
    async fn scripted(replies: Vec<Reply>) -> Self {
        Self::start(move |n| replies[n.min(replies.len() - 1)].clone()).await
    }

    fn client(&self) -> CoordinatorClient {
        CoordinatorClient::new(&self.url, Some("olw_test".into()))
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn status(checksum: &str) -> ArtifactStatus {
    ArtifactStatus {
        checksum: checksum.into(),
        exists: true,
        size: Some(3),
    }
}

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn claimed_job() -> ClaimedJob {
    ClaimedJob {
        job_id: 7,
        job_type: JobType::Execute,
        request_id: 42,
        attempt: 1,
        lease_token: "lease".into(),
        lease_expires_at_ms: 1,
        artifact_checksum: "ab".repeat(32),
        request: ExecutionRequest {
            context: ExecutionContext {
                request_id: 42,
                sender_id: account("alice.near"),
                predecessor_id: account("alice.near"),
                contract_id: account("outlayer.near"),
                block_height: 1,
                block_timestamp: 1,
                transaction_hash: None,
                random_seed: [0; 32],
            },
            code_source: CodeSource::WasmUrl {
                url: "https://example.org/p.wasm".into(),
                hash: "ab".repeat(32),
                build_target: BuildTarget::Wasip1,
            },
            resource_limits: ResourceLimits::default(),
            input_data: None,
            input_in_state: false,
            secrets_ref: None,
            response_format: ResponseFormat::Text,
            payment: U128(1),
            payer_account_id: account("alice.near"),
            max_compile_seconds: None,
        },
    }
}

#[tokio::test]
async fn rate_limited_call_waits_retry_after_then_succeeds() {
    let mut limited = api_error(429, "rate limit exceeded");
    limited.retry_after = Some("1");
    let server = Server::scripted(vec![limited, json(200, &status("aa"))]).await;
    let started = Instant::now();
    let answer = server.client().artifact_exists("aa").await.unwrap();
    assert_eq!(answer, status("aa"));
    assert_eq!(server.count(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
}

#[tokio::test]
async fn unavailable_twice_then_success() {
    let server = Server::scripted(vec![
        api_error(503, "store unavailable"),
        reply(503, "<html>busy</html>"),
        json(200, &CoordinatorStats::default()),
    ])
    .await;
    let stats = server.client().stats().await.unwrap();
    assert_eq!(stats, CoordinatorStats::default());
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn gateway_errors_give_up_after_four_tries() {
    let server = Server::scripted(vec![reply(502, "bad gateway")]).await;
    let started = Instant::now();
    let err = server.client().stats().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Unavailable { status: 502, message } if message == "bad gateway"),
        "{err:?}"
    );
    assert_eq!(server.count(), 4);
    // 100 + 200 + 400 ms of backoff.
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[tokio::test]
async fn server_error_is_unavailable_and_not_retried() {
    let server = Server::scripted(vec![api_error(500, "internal error")]).await;
    let err = server.client().stats().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Unavailable { status: 500, message } if message == "internal error"),
        "{err:?}"
    );
    assert!(!err.is_bad_request());
    assert_eq!(err.code(), None);
    assert_eq!(server.count(), 1);

    // Not even where the old client said "bad request": artifact uploads.
    let err = server
        .client()
        .upload_artifact("aa", vec![1, 2, 3])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Unavailable { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn not_found_with_json_body_is_refused() {
    let server = Server::scripted(vec![api_error(404, "job 7 not found")]).await;
    let client = server.client();
    let done = CompleteJob {
        lease_token: "lease".into(),
        success: true,
        error_category: None,
        error: None,
        output_summary: None,
        metrics: None,
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    };
    let err = client.complete(7, &done).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        matches!(&err, ClientError::Refused { status: 404, code: ErrorCode::NotFound, message } if message == "job 7 not found")
    );
    assert_eq!(server.count(), 1, "refusals are not retried");
    // Where "not found" is an answer, it is one.
    assert_eq!(client.cursor("testnet").await.unwrap(), None);
    assert_eq!(client.download_artifact("aa").await.unwrap(), None);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn not_found_without_the_coordinators_body_is_unexpected() {
    // A proxy's 404 (wrong base URL) must not read as "no cursor yet".
    let server = Server::scripted(vec![reply(404, "<h1>Not Found</h1>")]).await;
    let err = server.client().cursor("testnet").await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Unexpected { status: 404, body } if body.contains("Not Found")),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn non_json_success_is_unexpected() {
    let server = Server::scripted(vec![reply(200, "hello")]).await;
    let err = server.client().workers().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Unexpected { status: 200, body } if body == "hello"),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn claim_is_not_retried_once_it_may_have_acted() {
    let server = Server::scripted(vec![
        api_error(503, "store unavailable"),
        json(200, &claimed_job()),
    ])
    .await;
    let client = server.client();
    let err = client
        .claim("w", Some(7), &[JobType::Execute])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);

    // A 429 is answered before any handler runs: retried even for a claim.
    let mut limited = api_error(429, "rate limit exceeded");
    limited.retry_after = Some("1");
    let server = Server::scripted(vec![limited, json(200, &claimed_job())]).await;
    let claimed = server
        .client()
        .claim("w", None, &JobType::ALL)
        .await
        .unwrap();
    assert_eq!(claimed, claimed_job());
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn locks_are_not_retried_once_they_may_have_acted() {
    let server = Server::scripted(vec![reply(504, "gateway timeout")]).await;
    let client = server.client();
    assert!(client.acquire_lock("k", 1_000).await.is_err());
    assert!(client.release_lock("k", "owner").await.is_err());
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let mut limited = api_error(429, "rate limit exceeded");
    limited.retry_after = Some("1");
    let server = Server::scripted(vec![limited]).await;
    let client = server.client().with_retries(0);
    let err = client.stats().await.unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(server.count(), 1);

    let server = Server::scripted(vec![reply(503, "")]).await;
    let client = server.client().with_retries(1);
    assert!(client.stats().await.is_err());
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn timeouts_are_transport_errors_and_polls_outlast_their_long_poll() {
    let mut slow = json(200, &PollResponse { job: None });
    slow.delay = Duration::from_millis(600);
    let server = Server::scripted(vec![slow]).await;
    let client = server.client().with_timeout(Duration::from_millis(200));

    // A poll may take its long-poll time and more, whatever the timeout.
    assert_eq!(client.poll("w", &JobType::ALL, 500).await.unwrap(), None);
    assert_eq!(server.count(), 1);

    // Anything else is cut at the timeout, and retried when safe.
    let heartbeat = WorkerHeartbeat {
        worker_id: "w".into(),
        status: WorkerStatus::Idle,
        capabilities: vec![],
        version: None,
    };
    let err = client.worker_heartbeat(&heartbeat).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Transport(m) if m.contains("timed out")),
        "{err:?}"
    );
    assert_eq!(server.count(), 1 + 4);

    // A claim that timed out may have gone through: tried once.
    assert!(matches!(
        client.claim("w", None, &JobType::ALL).await,
        Err(ClientError::Transport(_))
    ));
    assert_eq!(server.count(), 1 + 4 + 1);
}

#[tokio::test]
async fn refused_connections_are_transport_errors_and_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = CoordinatorClient::new(&url, None);
    let started = Instant::now();
    // Nothing was sent, so even a claim is tried again (100 + 200 + 400 ms).
    let err = client.claim("w", None, &JobType::ALL).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    assert_eq!(err.status(), None);
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[tokio::test]
async fn requests_carry_the_token_paths_and_content_types() {
    let server = Server::start(|n| match n {
        0 => json(201, &status("aa")),
        1 => reply(200, "wasm"),
        2 => json(
            200,
            &JobsPage {
                jobs: vec![],
                next_offset: None,
            },
        ),
        _ => json(200, &serde_json::json!({})),
    })
    .await;
    let client = server.client();
    client.upload_artifact("aa", b"abc".to_vec()).await.unwrap();
    assert_eq!(
        client.download_artifact("aa").await.unwrap(),
        Some(b"wasm".to_vec())
    );
    assert_eq!(client.jobs_for_request(42).await.unwrap(), vec![]);
    client.set_cursor("testnet", 9).await.unwrap();
    let anon = CoordinatorClient::new(&format!("{}/", server.url), None);
    anon.raw(outlayer_coordinator_client::Method::GET, "/health", None)
        .await
        .unwrap();

    let seen = server.seen();
    let lines: Vec<_> = seen.iter().map(|s| s.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "PUT /artifacts/aa",
            "GET /artifacts/aa",
            "GET /public/jobs?request_id=42",
            "PUT /monitor/cursor/testnet",
            "GET /health",
        ]
    );
    let header = |i: usize, name: header::HeaderName| {
        seen[i]
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header(0, header::AUTHORIZATION).as_deref(),
        Some("Bearer olw_test")
    );
    assert_eq!(
        header(0, header::CONTENT_TYPE).as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(
        header(3, header::CONTENT_TYPE).as_deref(),
        Some("application/json")
    );
    assert_eq!(header(4, header::AUTHORIZATION), None);
}

#[test]
fn debug_output_hides_the_token() {
    let client = CoordinatorClient::new("http://127.0.0.1:1", Some("olw_secret".into()));
    let text = format!("{client:?}");
    assert!(!text.contains("olw_secret"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
}

#[tokio::test]
async fn values_in_paths_stay_one_segment() {
    let server = Server::scripted(vec![api_error(400, "bad checksum")]).await;
    let client = server.client();
    let err = client.upload_artifact("../etc", vec![1]).await.unwrap_err();
    assert!(err.is_bad_request(), "{err:?}");
    let err = client.cursor("a/b?c").await.unwrap_err();
    assert!(err.is_bad_request(), "{err:?}");
    // Dot segments cannot be sent at all: refused before sending.
    assert!(client.cursor("..").await.unwrap_err().is_bad_request());
    let lines: Vec<_> = server.seen().into_iter().map(|s| s.line).collect();
    assert_eq!(
        lines,
        ["PUT /artifacts/..%2Fetc", "GET /monitor/cursor/a%2Fb%3Fc"]
    );
}
