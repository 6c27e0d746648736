//! `outlayer devchain` as a user starts it: the address it prints answers
//! nearcore's RPC, near-cli credentials are written privately, and a
//! missing contract is a usage error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The contract wasm, when it is built; `scripts/test` builds it and sets
/// `OUTLAYER_REQUIRE_CONTRACT_WASM=1`, so there it must be.
fn contract_wasm() -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contract/res/outlayer_contract.wasm");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("OUTLAYER_REQUIRE_CONTRACT_WASM").is_none(),
        "{} is missing: run scripts/build-contract",
        path.display(),
    );
    eprintln!("skipped: run scripts/build-contract first");
    None
}

/// One JSON-RPC call over a plain HTTP/1.1 connection.
fn rpc(address: &str, method: &str) -> Value {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":[]}}"#);
    let mut stream = TcpStream::connect(address).expect("connects");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let json = &response[response.find("\r\n\r\n").expect("a body") + 4..];
    serde_json::from_str(json).expect("a JSON body")
}

#[test]
fn devchain_serves_rpc_and_writes_credentials() {
    let Some(contract) = contract_wasm() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_outlayer"))
        .args([
            "devchain",
            "--listen",
            "127.0.0.1:0",
            "--block-ms",
            "20",
            "--contract",
        ])
        .arg(&contract)
        .arg("--credentials-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("outlayer starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // Keep reading: the chain prints more lines after the first, and a
    // closed pipe would fail those prints and end it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let address = first
        .trim()
        .rsplit("http://")
        .next()
        .expect("the address is printed")
        .to_owned();
    let status = rpc(&address, "status");
    let near = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_outlayer"))
            .args(["near", "--rpc", &format!("http://{address}")])
            .args(args)
            .output()
            .unwrap()
    };
    let owner = dir.path().join("outlayer-local/owner.test.near.json");
    let alice = dir.path().join("outlayer-local/alice.test.near.json");
    let paused = near(&[
        "call",
        "outlayer.test.near",
        "set_paused",
        r#"{"paused": true}"#,
        "--deposit",
        "1",
        "--credentials",
        owner.to_str().unwrap(),
    ]);
    let by_alice = near(&[
        "call",
        "outlayer.test.near",
        "set_paused",
        r#"{"paused": false}"#,
        "--deposit",
        "1",
        "--credentials",
        alice.to_str().unwrap(),
    ]);
    let config = near(&["view", "outlayer.test.near", "get_config"]);
    child.kill().ok();
    child.wait().ok();

    assert_eq!(
        paused.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    let paused: Value = serde_json::from_slice(&paused.stdout).unwrap();
    assert_eq!(paused["status"], "succeeded");
    assert!(
        paused["tokens_burnt"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .unwrap()
            > 0
    );
    assert_eq!(by_alice.status.code(), Some(1), "a failed call exits 1");
    let by_alice: Value = serde_json::from_slice(&by_alice.stdout).unwrap();
    assert_eq!(by_alice["status"], "failed");
    assert!(
        by_alice["failure"]
            .to_string()
            .contains("Smart contract panicked"),
        "{by_alice}"
    );
    let config: Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(config["paused"], true);
    assert!(
        first.starts_with("local NEAR chain `outlayer-local` at http://127.0.0.1:"),
        "{first}"
    );
    assert_eq!(status["result"]["chain_id"], "outlayer-local");

    let operator = dir.path().join("outlayer-local/operator.test.near.json");
    let credentials: Value = serde_json::from_slice(&std::fs::read(&operator).unwrap()).unwrap();
    assert_eq!(credentials["account_id"], "operator.test.near");
    assert!(
        credentials["private_key"]
            .as_str()
            .unwrap()
            .starts_with("ed25519:")
    );
    let mode = std::fs::metadata(&operator).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "keys are readable by their owner only");
}

#[test]
fn a_missing_contract_is_a_usage_error() {
    if contract_wasm().is_none() {
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_outlayer"))
        .args([
            "devchain",
            "--listen",
            "127.0.0.1:0",
            "--contract",
            "/nonexistent/contract.wasm",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "cannot read the contract wasm /nonexistent/contract.wasm (run scripts/build-contract)"
        ),
        "{stderr}"
    );
}
