//! Faults on the real local system: a worker killed mid-run, the coordinator
//! restarted, the keystore down, a NEAR RPC that fails. Each request is
//! settled exactly once and nobody waits for the yield to time out.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, text_request};
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_dev::request::NewRequest;
use outlayer_types::{Accessor, Pricing, ResourceLimits, ResponseFormat, SecretsRef};
use serde_json::json;

/// Waits until `check` yields a value.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_a_restarted_coordinator_and_a_missing_keystore() {
    // Short leases, so a dead worker's job is handed out again quickly.
    let mut h = Harness::start(&["--lease-ms=4000", "--reconcile-ms=300"]).await;
    let client = CoordinatorClient::new(&h.stack.coordinator_url(), None);
    let pricing = Pricing::default();

    // Build compute first, so the next request's only job is a long run.
    let warm = text_request(h.package("examples/compute"), "10");
    assert!(h.pay("alice.test.near", &warm).await.success());

    // 1. Kill the worker while it runs a program; a second worker takes the
    // job over when the lease runs out and settles it, once.
    let long = NewRequest {
        limits: ResourceLimits {
            max_instructions: 10_000_000_000,
            ..ResourceLimits::default()
        },
        ..text_request(h.package("examples/compute"), "3000000")
    };
    let pay = {
        let rpc = h.rpc.clone();
        let signer = h.signer("alice.test.near");
        let contract = h.stack.contract();
        tokio::spawn(async move {
            let deposit = outlayer_dev::request::estimate(&rpc, &contract, &long)
                .await
                .unwrap();
            outlayer_dev::request::send(
                &rpc,
                &signer,
                &contract,
                &long,
                deposit,
                Duration::from_secs(120),
            )
            .await
            .unwrap()
        })
    };
    let claimed = eventually(Duration::from_secs(60), "the run to start", || {
        let client = client.clone();
        async move {
            let page = client.jobs("state=claimed&job_type=execute").await.ok()?;
            page.jobs.into_iter().next()
        }
    })
    .await;
    assert_eq!(claimed.worker_id.as_deref(), Some("dev-worker-1"));
    h.stack.kill_worker(0);
    // The replacement follows the chain too, for the requests below.
    h.stack.add_worker(true).await.unwrap();
    let settled = pay.await.unwrap();
    let value = settled.value.clone().expect("an output");
    assert!(
        value
            .as_str()
            .is_some_and(|v| v.starts_with("{\"primes\":")),
        "{settled:?}"
    );
    let execute = h.executed_once(claimed.request_id).await;
    assert_eq!(
        execute.attempt, 2,
        "handed out again after the lease ran out"
    );
    assert_eq!(execute.worker_id.as_deref(), Some("dev-worker-2"));

    // 2. Stop the coordinator, pay, start it again: the monitor resumes from
    // its cursor and the request is served.
    h.stack.stop_coordinator().await;
    let echo = text_request(h.package("examples/echo"), "after a restart");
    let pay = {
        let rpc = h.rpc.clone();
        let signer = h.signer("bob.test.near");
        let contract = h.stack.contract();
        tokio::spawn(async move {
            let deposit = outlayer_dev::request::estimate(&rpc, &contract, &echo)
                .await
                .unwrap();
            outlayer_dev::request::send(
                &rpc,
                &signer,
                &contract,
                &echo,
                deposit,
                Duration::from_secs(150),
            )
            .await
            .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    h.stack.start_coordinator().await.unwrap();
    let settled = pay.await.unwrap();
    assert_eq!(settled.value, Some(json!("after a restart")), "{settled:?}");

    // 3. The keystore is down: a clear failure, settled at once, refunded
    // all but the base fee. Back up, the same request succeeds.
    let accessor = Accessor::Repo {
        repo: h.repo.clone(),
        branch: None,
    };
    outlayer_dev::demo::store_secret(
        &h.stack,
        &h.rpc,
        &h.signer("alice.test.near"),
        &h.stack.contract(),
        &accessor,
        "default",
    )
    .await
    .unwrap();
    let with_secrets = NewRequest {
        secrets_ref: Some(SecretsRef {
            profile: "default".into(),
            account_id: "alice.test.near".parse().unwrap(),
        }),
        response_format: ResponseFormat::Json,
        ..text_request(h.package("examples/secrets-env"), "")
    };
    h.stack.stop_keystore().await;
    let started = Instant::now();
    let failed = h.pay("alice.test.near", &with_secrets).await;
    let completed = failed.completed.clone().expect("settled");
    assert!(!completed.success);
    assert_eq!(
        completed.error.as_deref(),
        Some("infrastructure: secrets unavailable: the keystore could not be reached")
    );
    assert_eq!(completed.charged.0, pricing.base_fee.0);
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "not a yield timeout"
    );
    h.stack.start_keystore().await.unwrap();
    let served = h.pay("alice.test.near", &with_secrets).await;
    assert!(served.success(), "{served:?}");

    h.stack.stop().await;
}

/// A NEAR RPC in front of the local chain that fails on purpose: every
/// other `send_tx` is passed to the node and then answered with a 503 (the
/// transaction landed, the worker does not know it), every other `tx`
/// status query and every third view fail with a 503 before reaching it.
#[derive(Default)]
struct FaultyRpc {
    calls: std::sync::Mutex<std::collections::BTreeMap<String, u32>>,
    faults: std::sync::Mutex<std::collections::BTreeMap<String, u32>>,
}

impl FaultyRpc {
    /// Starts the proxy in front of `upstream`; its URL.
    async fn start(self: std::sync::Arc<Self>, upstream: String) -> String {
        use axum::body::Bytes;
        use axum::http::{Method, StatusCode, Uri};
        use axum::response::IntoResponse;

        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let (faults, http, upstream) = (self.clone(), http.clone(), upstream.clone());
            async move {
                let rpc_method = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["method"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "stream".into());
                let n = faults.count(&rpc_method);
                let fail_before = match rpc_method.as_str() {
                    "tx" => n % 2 == 1,
                    "query" => n % 3 == 1,
                    _ => false,
                };
                if fail_before {
                    faults.fault(&rpc_method);
                    return (StatusCode::SERVICE_UNAVAILABLE, "injected fault").into_response();
                }
                let url = format!(
                    "{upstream}{}",
                    uri.path_and_query().map_or("/", |p| p.as_str())
                );
                let forwarded = http
                    .request(method, url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let Ok(answer) = forwarded else {
                    return (StatusCode::BAD_GATEWAY, "upstream").into_response();
                };
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
                let bytes = answer.bytes().await.unwrap_or_default();
                if rpc_method == "send_tx" && n % 2 == 1 {
                    faults.fault("send_tx (landed)");
                    return (StatusCode::SERVICE_UNAVAILABLE, "injected fault").into_response();
                }
                (status, [("content-type", "application/json")], bytes).into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// Counts a call of `method`; its number, from 1.
    fn count(&self, method: &str) -> u32 {
        let mut calls = self.calls.lock().unwrap();
        let n = calls.entry(method.to_owned()).or_default();
        *n += 1;
        *n
    }

    fn fault(&self, what: &str) {
        *self
            .faults
            .lock()
            .unwrap()
            .entry(what.to_owned())
            .or_default() += 1;
    }

    fn faults(&self, what: &str) -> u32 {
        self.faults.lock().unwrap().get(what).copied().unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_errors_are_retried_and_each_request_is_settled_once() {
    let mut h = Harness::start(&[]).await;
    let faulty = std::sync::Arc::new(FaultyRpc::default());
    let proxy = faulty.clone().start(h.stack.rpc_url.clone()).await;
    // The only worker reaches the chain through the faulty RPC.
    h.stack.kill_worker(0);
    h.stack.add_worker_via(true, &proxy).await.unwrap();

    for i in 0..4 {
        let input = format!("through a bad RPC {i}");
        let before = h.balance("alice.test.near").await;
        let settled = h
            .pay(
                "alice.test.near",
                &text_request(h.package("examples/echo"), &input),
            )
            .await;
        assert_eq!(settled.value, Some(json!(input)), "{settled:?}");
        let charged = common::assert_money(&h, "alice.test.near", before, &settled).await;
        let id = settled.request_id.unwrap();
        let execute = h.executed_once(id).await;
        assert_eq!(execute.actual_cost.map(|c| c.0), Some(charged));
    }
    let stats = h.stats().await;
    assert_eq!(
        (stats.succeeded, stats.failed, stats.pending_requests),
        (4, 0, 0)
    );
    for what in ["send_tx (landed)", "tx", "query"] {
        assert!(faulty.faults(what) > 0, "no {what} fault was injected");
    }
    h.stack.stop().await;
}
