//! `outlayer secrets encrypt` and `outlayer keystore` as a user runs them.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use outlayer_keystore::MasterSecret;
use outlayer_keystore::crypto::AccessorKey;
use serde_json::Value;

const OWNER: &str = "alice.near";
const SEED: &str = "repo:github.com/alice/app:alice.near:main";

fn outlayer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outlayer"))
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("outlayer-cli-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn encrypt(file: &PathBuf, key_source: &[&str], extra: &[&str]) -> Output {
    outlayer()
        .args([
            "secrets",
            "encrypt",
            "--repo",
            "https://github.com/Alice/App.git",
            "--branch",
            "main",
        ])
        .args(["--owner", OWNER, "--profile", "default", "--file"])
        .arg(file)
        .args(key_source)
        .args(extra)
        .output()
        .unwrap()
}

fn dev_key() -> AccessorKey {
    AccessorKey::derive(&MasterSecret::development(), SEED)
}

fn opens_to(blob_b64: &str, expected: &str) {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(blob_b64)
        .unwrap();
    assert_eq!(&*dev_key().decrypt(&blob).unwrap(), expected.as_bytes());
}

#[test]
fn encrypts_for_a_given_pubkey_and_prints_store_secrets_args() {
    let file = temp_file("ok.json", r#"{"API_KEY": "sk-1", "B": "2"}"#);
    let pubkey = dev_key().public_hex();
    let access = r#"{"Whitelist":{"accounts":["bob.near"]}}"#;
    let out = encrypt(&file, &["--pubkey", &pubkey], &["--access", access]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["pubkey"], pubkey.as_str());
    assert_eq!(printed["secret_names"], serde_json::json!(["API_KEY", "B"]));
    let args = &printed["store_secrets_args"];
    assert_eq!(
        args["accessor"],
        serde_json::json!({"Repo": {"repo": "github.com/alice/app", "branch": "main"}})
    );
    assert_eq!(args["profile"], "default");
    assert_eq!(
        args["access"],
        serde_json::json!({"Whitelist": {"accounts": ["bob.near"]}})
    );
    assert_eq!(
        args["encrypted_secrets_base64"],
        printed["encrypted_secrets_base64"]
    );
    opens_to(
        args["encrypted_secrets_base64"].as_str().unwrap(),
        r#"{"API_KEY":"sk-1","B":"2"}"#,
    );

    let only = encrypt(&file, &["--pubkey", &pubkey], &["--args-only"]);
    let args: Value = serde_json::from_slice(&only.stdout).unwrap();
    assert_eq!(args["access"], "AllowAll");
    assert!(args.get("pubkey").is_none());
}

#[test]
fn refuses_reserved_names_and_bad_input_before_encrypting() {
    let pubkey = dev_key().public_hex();
    for (name, content, needle) in [
        (
            "reserved.json",
            r#"{"NEAR_SENDER_ID": "spoofed"}"#,
            "reserved",
        ),
        ("prefix.json", r#"{"OUTLAYER_MODE": "x"}"#, "reserved"),
        (
            "bad-name.json",
            r#"{"A-B": "x"}"#,
            "not a valid environment variable name",
        ),
        ("not-object.json", r#"["x"]"#, "JSON object"),
    ] {
        let out = encrypt(&temp_file(name, content), &["--pubkey", &pubkey], &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("spoofed"), "{stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing printed");
    }
    let ok = temp_file("fine.json", r#"{"K": "v"}"#);
    let out = encrypt(&ok, &["--pubkey", &pubkey], &["--profile", "bad profile!"]);
    assert_ne!(out.status.code(), Some(0));
    let out = encrypt(&ok, &["--pubkey", "abcd"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = encrypt(&ok, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "a key source is required");
    let out = encrypt(&ok, &["--keystore", "http://127.0.0.1:9"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreachable keystore is a failure"
    );
}

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn keystore_command_serves_pubkeys_to_the_encrypt_command() {
    let mut hasher = outlayer()
        .args(["keystore", "--hash-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hasher
        .stdin
        .take()
        .unwrap()
        .write_all(b"cli-token\n")
        .unwrap();
    let hashed = hasher.wait_with_output().unwrap();
    assert!(hashed.status.success());
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_owned();
    assert_eq!(hash, outlayer_keystore::hash_token("cli-token"));

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let service = Service(
        outlayer()
            .args([
                "keystore",
                "--dev-master",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--auth-token-hashes", &hash])
            .env_remove("KEYSTORE_MASTER_SECRET")
            .env_remove("KEYSTORE_MASTER_FILE")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "keystore did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let file = temp_file("served.json", r#"{"K": "v"}"#);
    let out = outlayer()
        .args([
            "secrets",
            "encrypt",
            "--repo",
            "alice/app",
            "--branch",
            "main",
        ])
        .args(["--owner", OWNER, "--profile", "p", "--file"])
        .arg(&file)
        .args(["--keystore", &url])
        .env("KEYSTORE_TOKEN", "cli-token")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["pubkey"], dev_key().public_hex().as_str());
    opens_to(
        printed["encrypted_secrets_base64"].as_str().unwrap(),
        r#"{"K":"v"}"#,
    );

    let out = outlayer()
        .args(["secrets", "encrypt", "--wasm-hash", &"ab".repeat(32)])
        .args(["--owner", OWNER, "--profile", "p", "--file"])
        .arg(&file)
        .args(["--keystore", &url])
        .env("KEYSTORE_TOKEN", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unauthorized"));
    drop(service);
}

#[test]
fn keystore_refuses_to_start_without_a_master_secret() {
    let out = outlayer()
        .args(["keystore", "--listen", "127.0.0.1:0"])
        .env_remove("KEYSTORE_MASTER_SECRET")
        .env_remove("KEYSTORE_MASTER_FILE")
        .env_remove("KEYSTORE_DEV_MASTER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no master secret"));
}

/// The largest secrets the CLI encrypts make the largest blob the contract
/// stores (32,768 base64 characters); one byte more is refused before
/// anything is encrypted or paid.
#[test]
fn the_largest_secrets_fit_the_contract_and_no_more() {
    let pubkey = dev_key().public_hex();
    // Compact JSON: {"A":"…","B":"…"} is 15 bytes around the values.
    let max = outlayer_types::limits::MAX_SECRETS_PLAINTEXT_BYTES;
    let secrets = |extra: usize| {
        let a = "a".repeat(16 * 1024);
        let b = "b".repeat(max - 15 - a.len() + extra);
        format!(r#"{{"A": "{a}", "B": "{b}"}}"#)
    };
    let out = encrypt(
        &temp_file("max.json", &secrets(0)),
        &["--pubkey", &pubkey],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let blob = printed["encrypted_secrets_base64"].as_str().unwrap();
    assert_eq!(blob.len(), outlayer_types::limits::MAX_SECRETS_BLOB_BASE64);

    let out = encrypt(
        &temp_file("over.json", &secrets(1)),
        &["--pubkey", &pubkey],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("longer than 24515 bytes"), "{stderr}");
    assert!(stderr.contains("32768 base64 characters"), "{stderr}");
    assert!(out.stdout.is_empty());
}
