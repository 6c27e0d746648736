//! The dashboard server under `outlayer dev`: assets and `config.json` with
//! this stack's addresses, development keys and examples; loopback only;
//! and the CORS answers the page relies on from the chain and the
//! coordinator.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use common::Harness;
use outlayer_dev::dashboard::{self, DashboardArgs};
use serde_json::Value;

/// One GET over plain HTTP/1.1 with the `Host` header given; status and body.
fn get(address: &str, host: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response[response.find("\r\n\r\n").unwrap() + 4..].to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_serves_assets_and_config_to_loopback_only() {
    let harness = Harness::start(&[]).await;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>OutLayer</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    // Listening anywhere but loopback is refused: the page carries keys.
    let public = DashboardArgs {
        dashboard_listen: "0.0.0.0:0".parse().unwrap(),
        dashboard_dir: dist.path().to_owned(),
    };
    let refused = dashboard::serve(&harness.stack, &project, &public).await;
    assert_eq!(
        refused.err().map(|e| e.to_string()),
        Some("--dashboard-listen 0.0.0.0:0: the dashboard hands out development keys, so it listens on loopback only".to_owned())
    );

    // Not built: no dashboard, no error.
    let empty = tempfile::tempdir().unwrap();
    let unbuilt = DashboardArgs {
        dashboard_listen: "127.0.0.1:0".parse().unwrap(),
        dashboard_dir: empty.path().to_owned(),
    };
    assert!(
        dashboard::serve(&harness.stack, &project, &unbuilt)
            .await
            .unwrap()
            .is_none()
    );

    let args = DashboardArgs {
        dashboard_listen: "127.0.0.1:0".parse().unwrap(),
        dashboard_dir: dist.path().to_owned(),
    };
    let served = dashboard::serve(&harness.stack, &project, &args)
        .await
        .unwrap()
        .expect("a built dashboard is served");
    let address = served.url.trim_start_matches("http://").to_owned();
    let port = address.rsplit(':').next().unwrap().to_owned();

    let answers = tokio::task::spawn_blocking(move || {
        let page = get(&address, &address, "/");
        let asset = get(&address, &address, "/app.js");
        let deep_link = get(&address, &format!("localhost:{port}"), "/executions/7");
        let config = get(&address, &address, "/config.json");
        let rebound = get(
            &address,
            &format!("attacker.example:{port}"),
            "/config.json",
        );
        let other_port = get(&address, "127.0.0.1:1", "/config.json");
        (page, asset, deep_link, config, rebound, other_port)
    })
    .await
    .unwrap();
    let (page, asset, deep_link, config, rebound, other_port) = answers;
    assert_eq!(
        page,
        (200, "<!doctype html><title>OutLayer</title>".to_owned())
    );
    assert_eq!(asset, (200, "console.log(1)".to_owned()));
    assert_eq!(
        deep_link, page,
        "unknown paths get the page (client-side routes)"
    );
    assert_eq!(rebound.0, 403, "{rebound:?}");
    assert!(
        !rebound.1.contains("ed25519:"),
        "no key leaves for a foreign host"
    );
    assert_eq!(other_port.0, 403);

    assert_eq!(config.0, 200);
    let config: Value = serde_json::from_str(&config.1).unwrap();
    assert_eq!(config["network"], "local");
    assert_eq!(config["rpc_url"], harness.stack.rpc_url);
    assert_eq!(config["coordinator_url"], harness.stack.coordinator_url());
    assert_eq!(config["contract_id"], "outlayer.test.near");
    let alice: Value =
        serde_json::from_slice(&std::fs::read(harness.stack.key_file("alice.test.near")).unwrap())
            .unwrap();
    assert_eq!(config["dev_accounts"][0]["account_id"], "alice.test.near");
    assert_eq!(
        config["dev_accounts"][0]["private_key"],
        alice["private_key"]
    );
    assert_eq!(config["dev_accounts"][1]["account_id"], "bob.test.near");
    let echo = &config["examples"][0]["source"]["GitPackage"];
    assert_eq!(echo["repo"], harness.repo.as_str());
    assert_eq!(echo["commit"], harness.commit.as_str());
    assert_eq!(echo["path"], "examples/echo");
    assert_eq!(echo["build_target"], "wasm32-wasip1");

    // The page calls the chain and the coordinator from its own origin.
    let client = reqwest::Client::new();
    let origin = served.url.clone();
    let rpc = client
        .post(&harness.stack.rpc_url)
        .header("Origin", &origin)
        .header("Content-Type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"status","params":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(rpc.headers()["access-control-allow-origin"], "*");
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/secrets/pubkey", harness.stack.coordinator_url()),
        )
        .header("Origin", &origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let stats = client
        .get(format!("{}/public/stats", harness.stack.coordinator_url()))
        .header("Origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.headers()["access-control-allow-origin"], "*");
    // A worker route is for workers, not pages: no CORS answer.
    let claim = client
        .post(format!("{}/jobs/claim", harness.stack.coordinator_url()))
        .header("Origin", &origin)
        .send()
        .await
        .unwrap();
    assert!(claim.headers().get("access-control-allow-origin").is_none());

    drop(served);
    harness.stack.stop().await;
}
