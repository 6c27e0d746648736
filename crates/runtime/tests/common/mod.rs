//! Shared helpers for the runtime's integration tests.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use outlayer_runtime::{Execution, Outcome, P1Engine, Runtime, RuntimeConfig};
use outlayer_types::{ExecutionContext, ExecutionOutput};

pub const ENGINES: [P1Engine; 2] = [P1Engine::Wasmtime, P1Engine::Wasmi];

pub fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime starts"))
        .clone()
}

/// Default limits and settings on the given P1 engine.
pub fn on(engine: P1Engine) -> Execution {
    Execution {
        engine,
        ..Execution::default()
    }
}

pub fn wasm(wat: &str) -> Arc<[u8]> {
    Arc::from(wat::parse_str(wat).expect("valid WAT"))
}

pub async fn run_wat(wat: &str, execution: Execution) -> Outcome {
    runtime().execute(wasm(wat), execution).await
}

pub fn text(outcome: &Outcome) -> &str {
    match &outcome.output {
        Some(ExecutionOutput::Text(text)) => text,
        other => panic!("expected text output, got {other:?} ({:?})", outcome.error),
    }
}

/// A P1 module: imports fd_write and proc_exit, exports memory and `_start`
/// whose body is `body`. `$print` writes `len` bytes at `ptr` to `fd`.
pub fn p1_module(data: &str, body: &str) -> String {
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "{data}")
          (func $print (param $fd i32) (param $ptr i32) (param $len i32)
            (i32.store (i32.const 0) (local.get $ptr))
            (i32.store (i32.const 4) (local.get $len))
            (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start") {body}))"#
    )
}

/// The guest examples, built by `scripts/build-examples` (run on demand).
pub fn example(name: &str) -> Arc<[u8]> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = std::process::Command::new(root.join("scripts/build-examples"))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("scripts/build-examples runs");
        assert!(status.success(), "scripts/build-examples failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/outlayer/target")
            });
        target.join("examples")
    });
    let path = dir.join(format!("{name}.wasm"));
    Arc::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/outlayer/target")
        })
}

/// The JavaScript engine, built by `scripts/build-js-engine` (once per test
/// binary) and loaded into the shared runtime.
pub fn js_engine() -> Arc<outlayer_runtime::Program> {
    static ENGINE: OnceLock<Arc<outlayer_runtime::Program>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
            let status = std::process::Command::new(root.join("scripts/build-js-engine"))
                .stdout(std::process::Stdio::null())
                .status()
                .expect("scripts/build-js-engine runs");
            assert!(status.success(), "scripts/build-js-engine failed");
            let path = target_dir()
                .join("js-engine")
                .join(outlayer_runtime::JS_ENGINE_FILE);
            let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            runtime().load_js_engine(&wasm).expect("the engine loads")
        })
        .clone()
}

/// A JavaScript example from `examples/js/`.
pub fn js_example(name: &str) -> outlayer_runtime::Script {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/js")
        .join(name);
    outlayer_runtime::Script {
        name: name.to_owned(),
        source: std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    }
}

/// Inline code named `program.js`, as a request's inline script is.
pub fn js(source: &str) -> outlayer_runtime::Script {
    outlayer_runtime::Script {
        name: "program.js".into(),
        source: source.into(),
    }
}

pub async fn run_js(source: &str, execution: Execution) -> Outcome {
    runtime()
        .run_script(&js_engine(), &js(source), execution)
        .await
}

/// A request's on-chain context, as the contract records it.
pub fn context(request_id: u64) -> ExecutionContext {
    ExecutionContext {
        request_id,
        sender_id: "alice.near".parse().unwrap(),
        predecessor_id: "app.alice.near".parse().unwrap(),
        contract_id: "outlayer.near".parse().unwrap(),
        block_height: 1234,
        block_timestamp: 1_700_000_000_123_456_789,
        transaction_hash: Some("8xTx".into()),
        random_seed: [9; 32],
    }
}
