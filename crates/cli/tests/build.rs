//! `outlayer build` as an operator runs it: the program is built in the
//! worker's sandbox and lands in the coordinator's artifact cache under the
//! key workers look for; a second run finds it there; a source that does not
//! build says why and exits 1; a source the contract would refuse is a
//! usage error.

use std::path::Path;
use std::process::{Command, Output};

use outlayer_coordinator_client::CoordinatorClient;
use serde_json::Value;

fn outlayer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_outlayer"))
        .args(args)
        .env_remove("COORDINATOR_URL")
        .env_remove("WORKER_TOKEN")
        .output()
        .expect("outlayer runs")
}

fn project() -> (String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let head = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert!(head.status.success(), "the project must be a git checkout");
    (
        format!("file://{}", root.display()),
        String::from_utf8(head.stdout).unwrap().trim().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prebuilt_program_is_in_the_coordinators_cache() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator =
        outlayer_coordinator::spawn(outlayer_coordinator::Config::local(dir.path().join("c")))
            .await
            .unwrap();
    let token = outlayer_coordinator::tokens::create(&coordinator.coordinator.store, "ops")
        .await
        .unwrap();
    let url = coordinator.url();
    let builds = dir.path().join("builds");
    let (repo, commit) = project();
    let build_at = |path: &'static str, commit: &str| {
        let (repo, commit, url, token, builds) = (
            repo.clone(),
            commit.to_owned(),
            url.clone(),
            token.clone(),
            builds.display().to_string(),
        );
        tokio::task::spawn_blocking(move || {
            outlayer(&[
                "build",
                "--repo",
                &repo,
                "--commit",
                &commit,
                "--path",
                path,
                "--coordinator-url",
                &url,
                "--coordinator-token",
                &token,
                "--build-dir",
                &builds,
                "--dev-allow-file-repos",
                "--json",
            ])
        })
    };

    let build = |path: &'static str| build_at(path, &commit);
    let first = build("examples/echo").await.unwrap();
    assert!(first.status.success(), "{first:?}");
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(first["cached"], false, "{first}");
    assert_eq!(first["uploaded"], true, "{first}");
    assert!(first["built_ms"].as_u64().unwrap() > 0, "{first}");
    assert_eq!(first["source"]["GitPackage"]["commit"], commit.as_str());
    let artifact = first["artifact"].as_str().unwrap().to_owned();

    // Where a worker looks for it: the same key, the same bytes.
    let client = CoordinatorClient::new(&url, Some(token.clone()));
    let stored = client.download_artifact(&artifact).await.unwrap().unwrap();
    assert_eq!(stored.len() as u64, first["bytes"].as_u64().unwrap());
    assert!(stored.starts_with(b"\0asm"));

    let again = build("examples/echo").await.unwrap();
    assert!(again.status.success(), "{again:?}");
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["cached"], true, "{again}");
    assert_eq!(again["artifact"], artifact.as_str());
    assert_eq!(again["built_ms"], Value::Null);

    // A ref is pinned to its commit first (the same artifact), and the pin
    // is shared through the coordinator with the workers.
    let by_ref = build_at("examples/echo", "HEAD").await.unwrap();
    assert!(by_ref.status.success(), "{by_ref:?}");
    let by_ref: Value = serde_json::from_slice(&by_ref.stdout).unwrap();
    assert_eq!(by_ref["artifact"], artifact.as_str(), "{by_ref}");
    assert_eq!(by_ref["cached"], true, "{by_ref}");
    let unpinned = outlayer_types::CodeSource::GitPackage {
        repo: repo.clone(),
        commit: "HEAD".into(),
        path: "examples/echo".into(),
        build_target: outlayer_types::BuildTarget::Wasip1,
    };
    assert_eq!(
        client.pin(&unpinned.artifact_checksum()).await.unwrap(),
        Some(commit.clone())
    );

    let broken = build("examples/no-such-package").await.unwrap();
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.starts_with("the source does not build: "),
        "{stderr}"
    );
    assert!(stderr.contains("examples/no-such-package"), "{stderr}");
    coordinator.stop().await;
}

#[test]
fn sources_the_contract_would_refuse_are_usage_errors() {
    for args in [
        // Not a commit, branch or tag name git accepts.
        &["build", "--repo", "https://example.org/a/b", "--commit=-x"][..],
        &[
            "build",
            "--wasm-url",
            "https://example.org/p.wasm",
            "--wasm-hash",
            "xyz",
        ],
        &[
            "build",
            "--repo",
            "https://example.org/a/b",
            "--path",
            "../outside",
        ],
    ] {
        let output = outlayer(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("the contract would refuse this source"),
            "{args:?}: {stderr}"
        );
    }
}
