//! `outlayer run` as a user sees it: exit status, the `--json` object and the
//! human output, for programs given as WAT files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

/// Echoes stdin to stdout (reads up to 4 KiB once).
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 4096))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

const EXIT_3: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (i32.const 3))))"#;

const SPIN: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))"#;

struct Wat {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn wat_file(wat: &str) -> Wat {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("program.wasm");
    std::fs::write(&path, wat::parse_str(wat).expect("valid WAT")).expect("write wasm");
    Wat { path, _dir: dir }
}

fn outlayer(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outlayer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("outlayer starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("outlayer finishes")
}

fn run_json(program: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["run", program.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = outlayer(&args, b"");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("--json prints one JSON object ({e}): {stdout:?}"));
    (out.status.code().expect("exit code"), value)
}

/// Drops the measured metrics after checking their shape, so the rest of the
/// object can be compared exactly.
fn without_timing(mut value: Value) -> Value {
    let metrics = value["metrics"].as_object_mut().expect("metrics object");
    let mut keys: Vec<_> = metrics.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["instructions", "near_reads", "peak_memory_bytes", "time_ms"]
    );
    assert!(metrics["time_ms"].is_u64());
    assert_eq!(metrics["near_reads"], 0, "no reads without --near-rpc-url");
    assert_eq!(metrics["peak_memory_bytes"], 65536, "one page of memory");
    metrics.remove("time_ms");
    metrics.remove("peak_memory_bytes");
    metrics.remove("near_reads");
    value
}

#[test]
fn json_success_has_the_documented_shape() {
    let program = wat_file(ECHO);
    for engine in ["wasmtime", "wasmi"] {
        let (code, value) = run_json(&program.path, &["--input", "héllo", "--engine", engine]);
        assert_eq!(code, 0);
        let instructions = value["metrics"]["instructions"].as_u64().unwrap();
        assert!(instructions > 0 && instructions < 1000, "{instructions}");
        assert_eq!(
            without_timing(value),
            json!({
                "success": true,
                "output": "héllo",
                "error": null,
                "exit_code": 0,
                "metrics": {"instructions": instructions},
                "stderr": "",
            })
        );
    }
}

#[test]
fn json_format_parses_output_and_bytes_are_base64() {
    let program = wat_file(ECHO);
    let (code, value) = run_json(
        &program.path,
        &["--input", r#"{"a": [1, 2]}"#, "--format", "json"],
    );
    assert_eq!(code, 0);
    assert_eq!(value["output"], json!({"a": [1, 2]}));

    let (code, value) = run_json(
        &program.path,
        &["--input", "\u{1}\u{2}", "--format", "bytes"],
    );
    assert_eq!(code, 0);
    assert_eq!(value["output"], "AQI=");

    let (code, value) = run_json(&program.path, &["--input", "not json", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(value["success"], false);
    assert_eq!(value["output"], Value::Null);
    assert_eq!(value["error"]["kind"], "invalid_output");
}

#[test]
fn failures_exit_1_with_their_kind() {
    let exit = wat_file(EXIT_3);
    let (code, value) = run_json(&exit.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "exit");
    assert_eq!(value["exit_code"], 3);

    let spin = wat_file(SPIN);
    let (code, value) = run_json(&spin.path, &["--max-instructions", "5000"]);
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "fuel_exhausted");
    assert_eq!(value["metrics"]["instructions"], 5000);

    let (code, value) = run_json(
        &spin.path,
        &["--max-seconds", "1", "--max-instructions", "100000000000"],
    );
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "timeout");
    assert_eq!(
        value["metrics"]["instructions"], 100_000_000_000u64,
        "billed the whole budget"
    );
}

#[test]
fn not_wasm_is_an_invalid_program() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.wasm");
    std::fs::write(&path, b"#!/bin/sh\necho hi\n").unwrap();
    let (code, value) = run_json(&path, &[]);
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "invalid_program");
}

#[test]
fn human_output_keeps_stdout_for_the_program() {
    let program = wat_file(ECHO);
    let out = outlayer(
        &["run", program.path.to_str().unwrap(), "--input-file", "-"],
        b"piped in",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "piped in");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--- ok"), "{stderr}");
    assert!(stderr.contains("instructions "), "{stderr}");

    let spin = wat_file(SPIN);
    let out = outlayer(
        &[
            "run",
            spin.path.to_str().unwrap(),
            "--max-instructions",
            "10",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("failed: fuel_exhausted"), "{stderr}");
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let program = wat_file(ECHO);
    let path = program.path.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", "/nonexistent/program.wasm"],
            "cannot read /nonexistent/program.wasm",
        ),
        (&["run", path, "--env", "NOEQUALS"], "expected K=V"),
        (
            &["run", path, "--seed", "abc"],
            "expected 64 hex characters",
        ),
        (
            &["run", path, "--max-seconds", "0"],
            "must be greater than zero",
        ),
        (&["run", path, "--engine", "v8"], "invalid value 'v8'"),
        (
            &["run", path, "--env", "NEAR_SENDER_ID=bob.near"],
            "reserved_env",
        ),
    ];
    for (args, message) in cases {
        let out = outlayer(args, b"");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn secrets_reach_the_program_and_a_bad_file_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"API_KEY\": s3cr3t-value}").unwrap();
    let program = wat_file(ECHO);
    let out = outlayer(
        &[
            "run",
            program.path.to_str().unwrap(),
            "--secrets-file",
            bad.to_str().unwrap(),
        ],
        b"",
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("must be a JSON object of string values"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t"), "{stderr}");

    let reserved = dir.path().join("reserved.json");
    std::fs::write(&reserved, r#"{"OUTLAYER_X": "v"}"#).unwrap();
    let (code, value) = run_json(
        &program.path,
        &["--secrets-file", reserved.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert_eq!(value["error"]["kind"], "reserved_env");
}

#[test]
fn output_is_capped_as_the_contract_measures_it() {
    let echo = wat_file(ECHO);
    // 40 quotes: 40 bytes of stdout, but {"Text":"\"…\""} is 91 bytes of
    // JSON, which is what the contract compares with max_output_bytes.
    let quotes = "\"".repeat(40);
    let run = |cap: &str| {
        let path = echo.path.to_str().unwrap();
        let out = outlayer(
            &[
                "run",
                path,
                "--json",
                "--input",
                &quotes,
                "--max-output-bytes",
                cap,
            ],
            b"",
        );
        let value: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), value)
    };
    let (code, refused) = run("90");
    assert_eq!(code, 1);
    assert_eq!(
        refused["error"],
        json!({"kind": "output_limit", "message": "the output is 91 bytes as JSON, above the cap of 90"})
    );
    let (code, accepted) = run("91");
    assert_eq!(code, 0, "{accepted}");
    assert_eq!(accepted["output"], json!(quotes));
}
