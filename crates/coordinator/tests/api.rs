//! The HTTP surface, on SQLite and on PostgreSQL + Redis: authentication and
//! revocation, locks, artifact integrity and eviction, and the public routes.

mod common;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use common::{Backend, Harness, T, eventually, send, wasm_request};
use outlayer_coordinator::{Error, tokens};
use outlayer_coordinator_client::{CoordinatorClient, ErrorCode};
use outlayer_types::coordinator::*;
use serde_json::{Value, json};

async fn auth_and_revocation(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let poll =
        |client: CoordinatorClient| async move { client.poll("w", &[JobType::Execute], 10).await };
    assert!(matches!(
        poll(harness.anon.clone()).await,
        Err(e) if e.is_unauthorized()
    ));
    let forged = CoordinatorClient::new(&harness.url(), Some("olw_forged".into()));
    assert!(matches!(poll(forged).await, Err(e) if e.is_unauthorized()));
    assert_eq!(poll(harness.client.clone()).await.unwrap(), None);
    // Public routes need no token.
    harness.anon.stats().await.unwrap();

    // A worker id belongs to the token that registered it: another token
    // can neither heartbeat as it nor claim as it.
    let beat = |worker_id: &str| WorkerHeartbeat {
        worker_id: worker_id.into(),
        status: WorkerStatus::Idle,
        capabilities: vec![JobType::Execute],
        version: None,
    };
    harness
        .client
        .worker_heartbeat(&beat("worker-a"))
        .await
        .unwrap();
    let other = harness.client_named("other").await;
    let taken = other.worker_heartbeat(&beat("worker-a")).await.unwrap_err();
    assert!(taken.is_conflict(), "{taken}");
    harness
        .client
        .create_execution(&wasm_request(1))
        .await
        .unwrap();
    let taken = other
        .claim("worker-a", None, &JobType::ALL)
        .await
        .unwrap_err();
    assert!(taken.is_conflict(), "{taken}");
    other.worker_heartbeat(&beat("worker-b")).await.unwrap();
    let claimed = harness
        .client
        .claim("worker-a", None, &JobType::ALL)
        .await
        .unwrap();
    assert_eq!(claimed.request_id, 1);
    let workers = harness.anon.workers().await.unwrap();
    let owners: Vec<_> = workers
        .iter()
        .map(|w| (w.worker_id.as_str(), w.token_name.as_str()))
        .collect();
    assert!(owners.contains(&("worker-a", "test-worker")), "{owners:?}");
    assert!(owners.contains(&("worker-b", "other")), "{owners:?}");

    let store = &harness.coordinator().store;
    let second = harness.client_named("second").await;
    assert!(matches!(
        tokens::create(store, "second").await,
        Err(Error::Conflict(_))
    ));
    assert!(tokens::revoke(store, "second").await.unwrap());
    assert!(
        !tokens::revoke(store, "second").await.unwrap(),
        "already revoked"
    );
    assert!(matches!(poll(second).await, Err(e) if e.is_unauthorized()));
    let listed = tokens::list(store).await.unwrap();
    let names: Vec<_> = listed
        .iter()
        .map(|t| (t.name.as_str(), t.revoked_at_ms.is_some()))
        .collect();
    assert_eq!(
        names,
        [("test-worker", false), ("other", false), ("second", true)]
    );
    // Only hashes are stored.
    assert!(listed.iter().all(|t| !t.name.starts_with("olw_")));
    harness.stop().await;

    // The development flag turns authentication off.
    let open = Harness::start(backend, |c| c.insecure_no_auth = true).await;
    assert_eq!(poll(open.anon.clone()).await.unwrap(), None);
    open.stop().await;
}

async fn locks(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let a = &harness.client;
    let b = harness.client_named("other").await;
    let grant = a.acquire_lock("build:abc", 60_000).await.unwrap();
    assert!(matches!(
        b.acquire_lock("build:abc", 60_000).await,
        Err(e) if e.is_conflict()
    ));
    // Only the owner releases.
    assert!(matches!(
        b.release_lock("build:abc", "not-the-owner").await,
        Err(e) if e.is_conflict()
    ));
    a.release_lock("build:abc", &grant.owner_token)
        .await
        .unwrap();
    assert!(matches!(
        a.release_lock("build:abc", &grant.owner_token).await,
        Err(e) if e.is_conflict()
    ));
    let mine = b.acquire_lock("build:abc", 50).await.unwrap();
    // An expired lock is free for the next taker, and the old owner's token is void.
    eventually(T, "the lock to expire", || async {
        a.acquire_lock("build:abc", 60_000).await.is_ok()
    })
    .await;
    assert!(matches!(
        b.release_lock("build:abc", &mine.owner_token).await,
        Err(e) if e.is_conflict()
    ));
    assert!(matches!(
        a.acquire_lock("k", 0).await,
        Err(e) if e.is_bad_request()
    ));
    assert!(matches!(
        a.acquire_lock("", 10).await,
        Err(e) if e.is_bad_request()
    ));
    harness.stop().await;
}

async fn artifacts(backend: Backend) {
    let harness = Harness::start(backend, |c| c.artifact_cache_bytes = 1_000).await;
    let client = &harness.client;
    let checksum = |n: u8| format!("{:02x}", n).repeat(32);
    let bytes = |n: u8| vec![n; 400];
    client
        .upload_artifact(&checksum(1), bytes(1))
        .await
        .unwrap();
    let status = harness.anon.artifact_exists(&checksum(1)).await.unwrap();
    assert!(status.exists);
    assert_eq!(status.size, Some(400));
    assert_eq!(
        client.download_artifact(&checksum(1)).await.unwrap(),
        Some(bytes(1))
    );

    // Corrupt the file on disk: it is detected, discarded and not served.
    let path = harness
        .config
        .artifact_dir()
        .join(&checksum(1)[..2])
        .join(format!("{}.wasm", checksum(1)));
    let mut corrupted = bytes(1);
    corrupted[10] ^= 0xff;
    std::fs::write(&path, corrupted).unwrap();
    assert_eq!(client.download_artifact(&checksum(1)).await.unwrap(), None);
    assert!(
        !harness
            .anon
            .artifact_exists(&checksum(1))
            .await
            .unwrap()
            .exists
    );
    let metrics = harness
        .anon
        .raw(Method::GET, "/metrics", None)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("outlayer_coordinator_artifacts_corrupt_total 1"),
        "{text}"
    );

    // Least recently used artifacts are evicted past the size bound.
    for n in 2..=4 {
        client
            .upload_artifact(&checksum(n), bytes(n))
            .await
            .unwrap();
    }
    let present: Vec<bool> =
        futures_exists(&harness.anon, &[checksum(2), checksum(3), checksum(4)]).await;
    assert_eq!(present, [false, true, true]);

    // Bad checksums, declared-hash mismatches, empty and oversized uploads.
    let url = format!("{}/artifacts/{}", harness.url(), checksum(9));
    let mut headers = HeaderMap::new();
    headers.insert("x-content-sha256", HeaderValue::from_static("00"));
    let (status, _, body) = send(
        &url,
        Method::PUT,
        Some(&harness.token),
        Some("abc"),
        headers,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(matches!(
        client.upload_artifact("../etc", vec![1]).await,
        Err(e) if e.is_bad_request()
    ));
    assert!(matches!(
        client.upload_artifact(&checksum(9), vec![]).await,
        Err(e) if e.is_bad_request()
    ));
    let small = Harness::start(backend, |c| c.max_artifact_bytes = 1_000).await;
    let err = small
        .client
        .upload_artifact(&checksum(9), vec![0; 2_000])
        .await;
    assert!(
        matches!(&err, Err(e) if e.code() == Some(ErrorCode::PayloadTooLarge)),
        "{err:?}"
    );
    small.stop().await;
    harness.stop().await;
}

async fn futures_exists(client: &CoordinatorClient, checksums: &[String]) -> Vec<bool> {
    let mut out = Vec::new();
    for checksum in checksums {
        out.push(client.artifact_exists(checksum).await.unwrap().exists);
    }
    out
}

async fn public_routes(backend: Backend) {
    // A stand-in keystore that echoes what it was sent and with which token.
    let keystore = axum::Router::new()
        .route(
            "/pubkey",
            axum::routing::post(|headers: HeaderMap, body: String| async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .map(|v| v.to_str().unwrap().to_owned());
                (
                    StatusCode::ACCEPTED,
                    axum::Json(json!({ "body": body, "auth": auth })),
                )
            }),
        )
        .route("/health", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keystore_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, keystore).await.unwrap() });

    let harness = Harness::start(backend, |c| {
        c.keystore_url = Some(keystore_url);
        c.keystore_token = Some("ks-secret".into());
    })
    .await;
    let (anon, client) = (&harness.anon, &harness.client);

    let health = anon.raw(Method::GET, "/health", None).await.unwrap();
    assert_eq!(health.status, StatusCode::OK);
    let detailed = anon
        .raw(Method::GET, "/health/detailed", None)
        .await
        .unwrap();
    assert_eq!(detailed.status, StatusCode::OK);
    let report: HealthReport = detailed.json().unwrap();
    assert_eq!(report.store.status, HealthStatus::Healthy);
    assert_eq!(report.queue.status, HealthStatus::Healthy);
    assert_eq!(report.keystore.status, HealthStatus::Healthy);
    // No worker yet: working but degraded.
    assert_eq!(report.workers.status, HealthStatus::Degraded);
    assert_eq!(report.status, HealthStatus::Degraded);

    client
        .worker_heartbeat(&WorkerHeartbeat {
            worker_id: "worker-1".into(),
            status: WorkerStatus::Busy,
            capabilities: vec![JobType::Compile, JobType::Execute],
            version: Some("0.1.0".into()),
        })
        .await
        .unwrap();
    let workers = anon.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].token_name, "test-worker");
    assert_eq!(workers[0].status, WorkerStatus::Busy);
    assert!(workers[0].active);

    assert_eq!(client.cursor("testnet").await.unwrap(), None);
    client.set_cursor("testnet", 12_345).await.unwrap();
    assert_eq!(client.cursor("testnet").await.unwrap(), Some(12_345));
    let report: HealthReport = anon
        .raw(Method::GET, "/health/detailed", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(report.monitor.status, HealthStatus::Healthy);
    assert_eq!(report.status, HealthStatus::Healthy);

    // Paging through recent jobs, newest first.
    for id in 1..=5 {
        client.create_execution(&wasm_request(id)).await.unwrap();
    }
    let page = anon.jobs("limit=2").await.unwrap();
    assert_eq!(
        page.jobs.iter().map(|j| j.request_id).collect::<Vec<_>>(),
        [5, 4]
    );
    assert_eq!(page.next_offset, Some(2));
    let last = anon.jobs("limit=2&offset=4").await.unwrap();
    assert_eq!(last.jobs.len(), 1);
    assert_eq!(last.next_offset, None);
    let pending = anon.jobs("state=pending&job_type=execute").await.unwrap();
    assert_eq!(pending.jobs.len(), 5);
    let stats = anon.stats().await.unwrap();
    assert_eq!(
        (
            stats.requests_total,
            stats.jobs.pending,
            stats.workers_active
        ),
        (5, 5, 1)
    );

    let metrics = anon.raw(Method::GET, "/metrics", None).await.unwrap();
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("outlayer_coordinator_requests_created_total 5"),
        "{text}"
    );
    assert!(
        text.contains("outlayer_coordinator_jobs{state=\"pending\"} 5"),
        "{text}"
    );

    // The secrets public-key proxy forwards body and status, with the
    // coordinator's own keystore token.
    let proxied = anon
        .raw(
            Method::POST,
            "/secrets/pubkey",
            Some(br#"{"accessor":"x"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(proxied.status, StatusCode::ACCEPTED);
    let echoed: Value = proxied.json().unwrap();
    assert_eq!(echoed["body"], r#"{"accessor":"x"}"#);
    assert_eq!(echoed["auth"], "Bearer ks-secret");

    let spec: Value = anon
        .raw(Method::GET, "/openapi.json", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/jobs/poll",
        "/jobs/claim",
        "/executions",
        "/health/detailed",
        "/secrets/pubkey",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    harness.stop().await;
}

both_backends!(auth_and_revocation, locks, artifacts, public_routes);

/// With its queue gone, the coordinator reports itself unhealthy (503) but
/// keeps accepting requests into the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_without_redis() {
    let redis = common::start_redis();
    let harness = Harness::start(Backend::PostgresRedis, |c| {
        c.redis_url = Some(format!("redis://127.0.0.1:{}/", redis.port));
    })
    .await;
    redis.stop();
    let detailed = harness
        .anon
        .raw(Method::GET, "/health/detailed", None)
        .await
        .unwrap();
    assert_eq!(detailed.status, StatusCode::SERVICE_UNAVAILABLE);
    let report: HealthReport = detailed.json().unwrap();
    assert_eq!(report.queue.status, HealthStatus::Unhealthy);
    let created = harness
        .client
        .create_execution(&wasm_request(1))
        .await
        .unwrap();
    assert!(created.created);
    let claimed = harness
        .client
        .claim("w", None, &JobType::ALL)
        .await
        .unwrap();
    assert_eq!(claimed.request_id, 1);
    harness.stop().await;
}

/// Redis restarted: the coordinator reconnects, and the request created
/// while it was down (its wake-up lost) is still handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart() {
    let redis = common::start_redis();
    let port = redis.port;
    let harness = Harness::start(Backend::PostgresRedis, |c| {
        c.redis_url = Some(format!("redis://127.0.0.1:{port}/"));
        c.reconcile_ms = 100;
        c.requeue_ms = 200;
    })
    .await;
    let client = &harness.client;
    client.create_execution(&wasm_request(1)).await.unwrap();
    redis.stop();
    client.create_execution(&wasm_request(2)).await.unwrap();
    let _redis = common::start_redis_on(port);
    eventually(T, "the queue to be healthy again", || async {
        let report: HealthReport = harness
            .anon
            .raw(Method::GET, "/health/detailed", None)
            .await
            .unwrap()
            .json()
            .unwrap();
        report.queue.status == HealthStatus::Healthy
    })
    .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let offer = client
            .poll("w", &JobType::ALL, 5_000)
            .await
            .unwrap()
            .unwrap();
        let claimed = client
            .claim("w", Some(offer.job_id), &JobType::ALL)
            .await
            .unwrap();
        seen.push(claimed.request_id);
    }
    seen.sort();
    assert_eq!(seen, [1, 2]);
    harness.stop().await;
}

/// A proxy with no keystore configured answers 503, not 500.
#[tokio::test]
async fn pubkey_proxy_without_keystore() {
    let harness = Harness::start(Backend::Sqlite, |_| {}).await;
    let response = harness
        .anon
        .raw(Method::POST, "/secrets/pubkey", Some(b"{}".to_vec()))
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    harness.stop().await;
}

/// The served document and the router cannot drift: every operation
/// `/openapi.json` describes is served (asked without a token or a body,
/// its path parameters filled in, it answers something other than the
/// router's fallback, 404 "no such route", or a 405), and on a documented
/// path every method the document does not give is a 405. A route served
/// at a path the document does not name cannot be written: routes are added
/// only through `api::Routes::route`, which describes them (the dashboard's
/// static site, with `--dashboard-dir` only, is apart on purpose).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_routes_are_served() {
    let harness = Harness::start(Backend::Sqlite, |_| {}).await;
    let doc: Value = harness
        .anon
        .raw(Method::GET, "/openapi.json", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{} paths", paths.len());
    let mut operations = 0;
    for (template, item) in paths {
        // Any value will do for a parameter: one its handler refuses is
        // a 400, still not the fallback.
        let path = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let documented = item.get(method.as_str().to_lowercase()).is_some();
            let answer = harness.anon.raw(method.clone(), &path, None).await.unwrap();
            let body: Value = answer.json().unwrap_or(Value::Null);
            let what = format!("{method} {path} ({template}): {} {body}", answer.status);
            if documented {
                operations += 1;
                assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
                assert!(
                    !(answer.status == StatusCode::NOT_FOUND && body["message"] == "no such route"),
                    "documented but not served: {what}"
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "served but not documented: {what}"
                );
            }
        }
    }
    assert!(operations >= 25, "{operations} operations");
    harness.stop().await;
}
