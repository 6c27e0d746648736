//! Test support: a throwaway PostgreSQL cluster and Redis server per test
//! binary (started on first use, stopped when the binary exits), a fresh
//! database per test, and a coordinator harness on a real port.
//!
//! Missing PostgreSQL or Redis binaries fail the tests loudly: CI installs
//! them through `scripts/setup`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use outlayer_coordinator::{Config, Running, spawn, tokens};
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
    ResponseFormat, U128,
};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    PostgresRedis,
}

/// Runs one scenario on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_redis() {
                    super::$name($crate::common::Backend::PostgresRedis).await
                }
            }
        )*
    };
}

#[allow(unused_imports)] // each test binary uses different ones
pub(crate) use outlayer_test_services::{redis, start_redis, start_redis_on, unique};

/// A clock standing at the present until a test moves it.
pub(crate) fn manual_clock() -> outlayer_coordinator::clock::Clock {
    outlayer_coordinator::clock::Clock::manual(outlayer_coordinator::store::now_ms())
}

/// The background reconciler's interval for tests that reconcile by hand.
pub(crate) const RECONCILE_BY_HAND_MS: u64 = 3_600_000;

/// A new, empty PostgreSQL database.
pub(crate) async fn fresh_database() -> String {
    tokio::task::spawn_blocking(outlayer_test_services::fresh_database)
        .await
        .unwrap()
}

/// A coordinator on a real port, with a worker token and a client.
pub(crate) struct Harness {
    pub backend: Backend,
    pub config: Config,
    pub running: Option<Running>,
    pub token: String,
    pub client: CoordinatorClient,
    pub anon: CoordinatorClient,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Starts a coordinator; rate limits are off unless `tweak` sets them.
    pub(crate) async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::local(dir.path().to_path_buf());
        config.anon_rps = 0.0;
        config.keyed_rps = 0.0;
        if backend == Backend::PostgresRedis {
            config.database_url = Some(fresh_database().await);
            config.redis_url = Some(format!("redis://127.0.0.1:{}/", redis().port));
            config.redis_prefix = unique("q");
        }
        tweak(&mut config);
        let running = spawn(config.clone()).await.expect("coordinator starts");
        let token = tokens::create(&running.coordinator.store, "test-worker")
            .await
            .unwrap();
        let client = CoordinatorClient::new(&running.url(), Some(token.clone()));
        let anon = CoordinatorClient::new(&running.url(), None);
        // Restarts reuse the port, so clients keep working across them.
        config.listen = running.addr;
        Self {
            backend,
            config,
            running: Some(running),
            token,
            client,
            anon,
            _dir: dir,
        }
    }

    /// One reconciler pass now (tests on a manual clock run the background
    /// one rarely and call this after moving the clock).
    pub(crate) async fn reconcile(&self) {
        self.coordinator().reconcile().await.unwrap();
    }

    pub(crate) fn coordinator(&self) -> &outlayer_coordinator::Coordinator {
        &self.running.as_ref().unwrap().coordinator
    }

    pub(crate) fn url(&self) -> String {
        self.running.as_ref().unwrap().url()
    }

    /// A client with another token.
    pub(crate) async fn client_named(&self, name: &str) -> CoordinatorClient {
        let token = tokens::create(&self.coordinator().store, name)
            .await
            .unwrap();
        CoordinatorClient::new(&self.url(), Some(token))
    }

    /// Stops the coordinator and starts it again on the same store and port.
    pub(crate) async fn restart(&mut self) {
        self.running.take().unwrap().stop().await;
        self.running = Some(
            spawn(self.config.clone())
                .await
                .expect("coordinator restarts"),
        );
    }

    pub(crate) async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

pub(crate) fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// A request for a program built from a repository (compile, then execute).
pub(crate) fn github_request(request_id: u64, commit: &str) -> ExecutionRequest {
    request(
        request_id,
        CodeSource::GitHub {
            repo: "github.com/outlayer/example".into(),
            commit: commit.into(),
            build_target: BuildTarget::Wasip1,
        },
    )
}

/// A request for a prebuilt binary (execute only).
pub(crate) fn wasm_request(request_id: u64) -> ExecutionRequest {
    request(
        request_id,
        CodeSource::WasmUrl {
            url: "https://example.org/p.wasm".into(),
            hash: "ab".repeat(32),
            build_target: BuildTarget::Wasip1,
        },
    )
}

fn request(request_id: u64, code_source: CodeSource) -> ExecutionRequest {
    ExecutionRequest {
        context: ExecutionContext {
            request_id,
            sender_id: account("alice.near"),
            predecessor_id: account("alice.near"),
            contract_id: account("outlayer.near"),
            block_height: 100,
            block_timestamp: 1,
            transaction_hash: None,
            random_seed: [7; 32],
        },
        code_source,
        resource_limits: ResourceLimits::default(),
        input_data: Some("{}".into()),
        input_in_state: false,
        secrets_ref: None,
        response_format: ResponseFormat::Text,
        payment: U128(1_000),
        payer_account_id: account("alice.near"),
        max_compile_seconds: None,
    }
}

/// Waits for `check` to hold, polling; panics with `what` after `limit`.
pub(crate) async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The timeout for one test request.
pub(crate) const T: Duration = Duration::from_secs(10);

/// One raw HTTP request: status, headers and the body as JSON (`Null` when
/// it is not JSON), for the tests that need to see exactly what was sent.
pub(crate) async fn send(
    url: &str,
    method: Method,
    bearer: Option<&str>,
    body: Option<&str>,
    mut headers: HeaderMap,
) -> (StatusCode, HeaderMap, Value) {
    // A body is JSON unless the test says otherwise.
    if body.is_some() && !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut request = reqwest::Client::new()
        .request(method, url)
        .headers(headers)
        .timeout(T);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, value)
}
