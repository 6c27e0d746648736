//! Prebuilt binaries from a loopback HTTP server the test starts.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::TestBuilder;
use outlayer_builder::BuildError;
use outlayer_types::{BuildTarget, CodeSource};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MODULE: &[u8] = b"\0asm\x01\0\0\0";
const COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
const TIMEOUT: Duration = Duration::from_secs(30);

/// `path → (body, send Content-Length)`; anything else is a 404.
type Routes = HashMap<&'static str, (Vec<u8>, bool)>;

/// A minimal HTTP/1.1 server on 127.0.0.1.
async fn serve(routes: Routes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = match routes.get(path.as_str()) {
                    Some((body, with_length)) => {
                        let mut head = "HTTP/1.1 200 OK\r\nConnection: close\r\n".to_owned();
                        if *with_length {
                            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
                        }
                        head.push_str("\r\n");
                        [head.into_bytes(), body.clone()].concat()
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    address
}

fn source(address: SocketAddr, path: &str, hash: &str, target: BuildTarget) -> CodeSource {
    CodeSource::WasmUrl {
        url: format!("http://{address}{path}"),
        hash: hash.to_owned(),
        build_target: target,
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn the_right_hash_gives_the_artifact() {
    let test = TestBuilder::new();
    let address = serve(Routes::from([
        ("/module.wasm", (MODULE.to_vec(), true)),
        ("/component.wasm", (COMPONENT.to_vec(), false)),
    ]))
    .await;
    let artifact = test
        .builder
        .build(
            &source(
                address,
                "/module.wasm",
                &sha256(MODULE),
                BuildTarget::Wasip1,
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(artifact.wasm, MODULE);
    assert_eq!(artifact.sha256, sha256(MODULE));

    // Upper-case hashes are the same hash; a body without a length is fine.
    let artifact = test
        .builder
        .build(
            &source(
                address,
                "/component.wasm",
                &sha256(COMPONENT).to_ascii_uppercase(),
                BuildTarget::Wasip2,
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(artifact.wasm, COMPONENT);
}

#[tokio::test]
async fn a_wrong_hash_is_a_user_error_naming_both() {
    let test = TestBuilder::new();
    let address = serve(Routes::from([("/module.wasm", (MODULE.to_vec(), true))])).await;
    let wrong = "0".repeat(64);
    let error = test
        .builder
        .build(
            &source(address, "/module.wasm", &wrong, BuildTarget::Wasip1),
            TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, BuildError::HashMismatch { .. }),
        "{error:?}"
    );
    assert!(error.is_user_error());
    let summary = error.summary();
    assert!(summary.contains(&wrong[..12]), "{summary}");
    assert!(summary.contains(&sha256(MODULE)[..12]), "{summary}");
}

#[tokio::test]
async fn too_large_binaries_are_refused() {
    let test = TestBuilder::with(|settings| settings.max_artifact_bytes = 1024);
    let big = [MODULE, &[0u8; 4096]].concat();
    let address = serve(Routes::from([
        ("/declared.wasm", (big.clone(), true)),
        ("/streamed.wasm", (big.clone(), false)),
    ]))
    .await;
    for path in ["/declared.wasm", "/streamed.wasm"] {
        let error = test
            .builder
            .build(
                &source(address, path, &sha256(&big), BuildTarget::Wasip1),
                TIMEOUT,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, BuildError::BadArtifact(_)),
            "{path}: {error:?}"
        );
        assert!(error.is_user_error());
        assert!(
            error.summary().contains("larger than 1024 bytes"),
            "{}",
            error.summary()
        );
    }
}

#[tokio::test]
async fn the_binary_must_match_its_target() {
    let test = TestBuilder::new();
    let address = serve(Routes::from([(
        "/component.wasm",
        (COMPONENT.to_vec(), true),
    )]))
    .await;
    let error = test
        .builder
        .build(
            &source(
                address,
                "/component.wasm",
                &sha256(COMPONENT),
                BuildTarget::Wasip1,
            ),
            TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::BadArtifact(_)), "{error:?}");
    assert_eq!(
        error.summary(),
        "unusable wasm: wasm32-wasip1 needs a core module, the binary is a component"
    );
}

#[tokio::test]
async fn plain_http_only_to_loopback_and_only_in_development() {
    let address = serve(Routes::from([("/module.wasm", (MODULE.to_vec(), true))])).await;
    let production = TestBuilder::with(|settings| settings.allow_file_repos = false);
    let error = production
        .builder
        .build(
            &source(
                address,
                "/module.wasm",
                &sha256(MODULE),
                BuildTarget::Wasip1,
            ),
            TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::Download(_)), "{error:?}");
    assert!(error.is_user_error());
    assert!(
        error.summary().contains("only https://"),
        "{}",
        error.summary()
    );

    let test = TestBuilder::new();
    let missing = test
        .builder
        .build(
            &source(
                address,
                "/missing.wasm",
                &sha256(MODULE),
                BuildTarget::Wasip1,
            ),
            TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(missing.summary().contains("404"), "{}", missing.summary());
    assert!(missing.is_user_error());
}
