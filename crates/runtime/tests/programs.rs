//! What the runtime refuses before running anything, and how stdout becomes
//! the result.

mod common;

use std::sync::Arc;

use common::{ENGINES, on, p1_module, run_wat, runtime, wasm};
use outlayer_runtime::{ErrorKind, Execution, Runtime, RuntimeConfig};
use outlayer_types::{ExecutionOutput, ResponseFormat};

#[tokio::test(flavor = "multi_thread")]
async fn bytes_that_are_not_wasm_are_invalid_programs() {
    for engine in ENGINES {
        let exec = on(engine);
        let outcome = runtime()
            .execute(Arc::from(&b"#!/bin/sh\necho hi"[..]), exec.clone())
            .await;
        let error = outcome.error.unwrap();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (ErrorKind::InvalidProgram, "not a WebAssembly binary")
        );

        // Right header, broken body.
        let broken: &[u8] = b"\0asm\x01\0\0\0\x01\xff\xff";
        let error = runtime()
            .execute(Arc::from(broken), exec)
            .await
            .error
            .unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidProgram, "{engine:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_imports_are_refused_by_name() {
    let wat = r#"(module (import "env" "open_socket" (func (param i32) (result i32)))
        (memory (export "memory") 1) (func (export "_start")))"#;
    for engine in ENGINES {
        let error = run_wat(wat, on(engine)).await.error.unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidProgram, "{engine:?}");
        assert!(
            error.message.contains("open_socket"),
            "{engine:?}: {}",
            error.message
        );
        assert!(
            error
                .message
                .starts_with("imports something the sandbox does not provide")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_without_start_is_missing_its_entrypoint() {
    let wat = r#"(module (memory (export "memory") 1) (func (export "main")))"#;
    for engine in ENGINES {
        let error = run_wat(wat, on(engine)).await.error.unwrap();
        assert_eq!(error.kind, ErrorKind::MissingEntrypoint, "{engine:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_binaries_are_refused_before_compiling() {
    let small = Runtime::new(RuntimeConfig {
        max_wasm_bytes: 16,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let outcome = small
        .execute(wasm(&p1_module("", "")), Execution::default())
        .await;
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidProgram);
    assert!(
        error.message.ends_with("exceeds the limit of 16 bytes"),
        "{}",
        error.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn response_formats() {
    // `data` is a WAT string literal; `len` is its length in bytes once unescaped.
    let print = |data: &str, len: usize| {
        p1_module(
            data,
            &format!("(call $print (i32.const 1) (i32.const 1024) (i32.const {len}))"),
        )
    };
    for engine in ENGINES {
        let json = Execution {
            engine,
            response_format: ResponseFormat::Json,
            ..Execution::default()
        };
        let outcome = run_wat(&print(r#"{\"n\": 1}"#, 8), json.clone()).await;
        assert_eq!(
            outcome.output,
            Some(ExecutionOutput::Json(serde_json::json!({"n": 1})))
        );

        let outcome = run_wat(&print("not json", 8), json).await;
        assert_eq!(
            outcome.error.unwrap().kind,
            ErrorKind::InvalidOutput,
            "{engine:?}"
        );
        assert_eq!(outcome.exit_code, Some(0), "the program itself succeeded");

        let bytes = Execution {
            engine,
            response_format: ResponseFormat::Bytes,
            ..Execution::default()
        };
        let outcome = run_wat(&print(r"\00\ff", 2), bytes).await;
        assert_eq!(outcome.output, Some(ExecutionOutput::Bytes(vec![0, 255])));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reserved_environment_names_are_refused_before_running() {
    let mut exec = Execution::default();
    exec.secrets
        .insert("NEAR_SENDER_ID".into(), "evil.near".into());
    let outcome = run_wat(&p1_module("", ""), exec).await;
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, ErrorKind::ReservedEnv);
    assert!(
        !error.message.contains("evil.near"),
        "values never appear in errors"
    );
    assert_eq!(outcome.metrics.instructions, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn programs_are_compiled_once_and_shared() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let bytes = wasm(&p1_module("x", ""));
    let loads: Vec<_> = (0..8)
        .map(|_| {
            let runtime = runtime.clone();
            let bytes = bytes.clone();
            std::thread::spawn(move || runtime.load(&bytes, Default::default()).unwrap())
        })
        .collect();
    let programs: Vec<_> = loads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        programs.iter().all(|p| Arc::ptr_eq(p, &programs[0])),
        "one compilation"
    );
    assert_eq!(runtime.cached_programs(), 1);
    // Refusals do not occupy the cache.
    assert!(runtime.load(b"nope", Default::default()).is_err());
    assert_eq!(runtime.cached_programs(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_evicts_the_least_recently_used() {
    let runtime = Runtime::new(RuntimeConfig {
        program_cache_entries: 2,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let a = wasm(&p1_module("a", ""));
    let b = wasm(&p1_module("b", ""));
    let c = wasm(&p1_module("c", ""));
    let first_a = runtime.load(&a, Default::default()).unwrap();
    runtime.load(&b, Default::default()).unwrap();
    runtime.load(&a, Default::default()).unwrap(); // a is now newer than b
    runtime.load(&c, Default::default()).unwrap(); // evicts b
    assert_eq!(runtime.cached_programs(), 2);
    assert!(Arc::ptr_eq(
        &first_a,
        &runtime.load(&a, Default::default()).unwrap()
    ));
}
