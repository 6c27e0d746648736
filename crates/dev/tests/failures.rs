//! Every way a request can fail, through the whole local system: each is
//! settled on chain with its category and a readable message, the payer is
//! charged the base fee and refunded the rest, to the yoctoNEAR.
//!
//! Needs the contract wasm, like `e2e.rs`.

mod common;

use std::net::TcpListener;
use std::process::Command;

use common::{Harness, assert_money, text_request};
use outlayer_dev::request::NewRequest;
use outlayer_types::{BuildTarget, CodeSource, MaxLimits, Pricing, ResourceLimits, ResponseFormat};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_settled_with_their_category_and_refunded() {
    let h = Harness::start(&[]).await;
    let pricing = Pricing::default();
    let caps = MaxLimits::default();

    // A build script that reaches for the network, at a server this test
    // runs on loopback: the build sandbox has no network at all.
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    probe.set_nonblocking(true).unwrap();
    let probe_repo = tempfile::tempdir().unwrap();
    let netprobe = crate_repo(
        probe_repo.path(),
        "netprobe",
        &format!(
            r#"fn main() {{
    let address = "{}".parse().unwrap();
    std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(5))
        .expect("reach the network from build.rs");
}}
"#,
            probe.local_addr().unwrap()
        ),
    );

    // A binary served over loopback HTTP that is not the one the request
    // names by hash.
    let served = serve(b"\0asm\x01\0\0\0 but not the program you paid for").await;

    let fuel = NewRequest {
        limits: ResourceLimits {
            max_instructions: 1_000_000,
            ..ResourceLimits::default()
        },
        ..text_request(h.package("examples/compute"), "100000")
    };
    let timeout = NewRequest {
        limits: ResourceLimits {
            max_instructions: caps.max_instructions,
            max_execution_seconds: 1,
            ..ResourceLimits::default()
        },
        ..text_request(h.package("examples/compute"), "4000000000")
    };
    // 40,000 quotes are 80,000 bytes as JSON: over the 64 KiB output cap
    // the contract enforces (the input itself is within the input cap and
    // travels through contract state).
    let too_large = text_request(h.package("examples/echo"), &"\"".repeat(40_000));
    let not_json = NewRequest {
        response_format: ResponseFormat::Json,
        ..text_request(h.package("examples/echo"), "not json")
    };
    let no_package = text_request(h.package("examples/no-such-package"), "");
    let wrong_hash = text_request(
        CodeSource::WasmUrl {
            url: format!("http://{served}/program.wasm"),
            hash: "ab".repeat(32),
            build_target: BuildTarget::Wasip1,
        },
        "",
    );
    let network_build = text_request(netprobe, "");

    let cases: [(&str, &NewRequest, &str, &str); 7] = [
        ("fuel", &fuel, "fuel_exhausted: ", ""),
        ("timeout", &timeout, "timeout: ", ""),
        (
            "output too large",
            &too_large,
            "output_limit: ",
            "above the cap of 65536",
        ),
        ("invalid JSON", &not_json, "invalid_output: ", ""),
        (
            "no such package",
            &no_package,
            "compilation_failed: ",
            "no-such-package",
        ),
        (
            "wrong hash",
            &wrong_hash,
            "compilation_failed: ",
            "wasm hash mismatch",
        ),
        (
            "build.rs network",
            &network_build,
            "compilation_failed: ",
            "reach the network from build.rs",
        ),
    ];
    for (name, new, category, detail) in cases {
        let before = h.balance("alice.test.near").await;
        let settled = h.pay("alice.test.near", new).await;
        let completed = settled.completed.clone().expect("settled");
        assert!(!completed.success, "{name}: {settled:?}");
        let error = completed.error.clone().unwrap();
        assert!(error.starts_with(category), "{name}: {error}");
        assert!(error.contains(detail), "{name}: {error}");
        assert!(
            error.len() <= outlayer_types::limits::MAX_ERROR_BYTES,
            "{name}"
        );
        assert_eq!(completed.charged.0, pricing.base_fee.0, "{name}: {error}");
        assert_money(&h, "alice.test.near", before, &settled).await;
    }

    match probe.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the build reached the test's server: {other:?}"),
    }
    h.stack.stop().await;
}

/// A git repository at `dir` holding one dependency-free binary crate with
/// `build_rs`; the source naming its first commit.
fn crate_repo(dir: &std::path::Path, name: &str, build_rs: &str) -> CodeSource {
    let files = [
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n"
            ),
        ),
        ("src/main.rs", "fn main() {}\n".to_owned()),
        ("build.rs", build_rs.to_owned()),
    ];
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let run = |program: &str, args: &[&str]| {
        let output = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{program} {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    run("cargo", &["generate-lockfile", "--offline", "--quiet"]);
    run("git", &["init", "--quiet", "--initial-branch=main"]);
    run("git", &["add", "--all"]);
    run(
        "git",
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "-m",
            "init",
        ],
    );
    CodeSource::GitHub {
        repo: format!("file://{}", dir.display()),
        commit: run("git", &["rev-parse", "HEAD"]),
        build_target: BuildTarget::Wasip1,
    }
}

/// Serves `body` to every HTTP request on a loopback port; the address.
async fn serve(body: &'static [u8]) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/wasm\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    address
}
