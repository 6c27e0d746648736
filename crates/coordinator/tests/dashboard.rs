//! `--dashboard-dir`: the built dashboard at `/dashboard/` with a
//! `config.json` from the flags (no development keys), API routes intact.

mod common;

use common::{Backend, Harness};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_beside_the_api() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>OutLayer</title>",
    )
    .unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/app.js"), "console.log(1)").unwrap();
    let dir = dist.path().to_owned();
    let harness = Harness::start(Backend::Sqlite, |config| {
        config.dashboard_dir = Some(dir);
        config.public_url = Some("https://coordinator.example/".into());
        config.dashboard_rpc_url = Some("https://rpc.testnet.example".into());
        config.dashboard_contract_id = Some("outlayer.testnet".into());
    })
    .await;
    let base = harness.running.as_ref().unwrap().url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| http.get(format!("{base}{path}")).send();

    let page = get("/dashboard/").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.text().await.unwrap(),
        "<!doctype html><title>OutLayer</title>"
    );
    let asset = get("/dashboard/assets/app.js").await.unwrap();
    assert_eq!(asset.text().await.unwrap(), "console.log(1)");
    // Client-side routes get the page.
    let deep = get("/dashboard/executions/3").await.unwrap();
    assert_eq!(
        deep.text().await.unwrap(),
        "<!doctype html><title>OutLayer</title>"
    );
    // Without the slash, relative asset paths would break: redirected.
    let bare = get("/dashboard").await.unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/dashboard/");

    let config: Value = serde_json::from_str(
        &get("/dashboard/config.json")
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        config,
        json!({
            "network": "testnet",
            "rpc_url": "https://rpc.testnet.example",
            "coordinator_url": "https://coordinator.example",
            "contract_id": "outlayer.testnet",
        })
    );
    // The API is unchanged, and unknown routes still answer JSON.
    assert_eq!(get("/health").await.unwrap().status(), 200);
    let unknown = get("/nothing-here").await.unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = serde_json::from_str(&unknown.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "not_found");
}

#[test]
fn the_dashboard_needs_its_settings() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        config: outlayer_coordinator::Config,
    }
    let error = Cli::try_parse_from(["coordinator", "--dashboard-dir", "dist"])
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("--public-url"), "{error}");
    assert!(error.contains("--dashboard-rpc-url"), "{error}");
    assert!(error.contains("--dashboard-contract-id"), "{error}");
}
