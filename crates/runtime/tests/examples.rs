//! The real guest examples (built by `scripts/build-examples`): determinism,
//! engines agreeing, context and secrets in the environment.

mod common;

use common::{ENGINES, context, example, runtime};
use outlayer_runtime::{Execution, ExecutionType, Randomness};
use outlayer_types::{ExecutionOutput, ResponseFormat};
use serde_json::{Value, json};

fn request(request_id: u64, input: &str) -> Execution {
    let ctx = context(request_id);
    Execution {
        input: input.as_bytes().to_vec(),
        response_format: ResponseFormat::Json,
        randomness: Randomness::for_request(&ctx),
        context: Some(ctx),
        execution_type: ExecutionType::Near,
        ..Execution::default()
    }
}

fn json_output(outcome: &outlayer_runtime::Outcome) -> Value {
    match &outcome.output {
        Some(ExecutionOutput::Json(v)) => v.clone(),
        other => panic!(
            "expected JSON output, got {other:?}: {:?} {}",
            outcome.error, outcome.stderr
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_returns_its_input_on_both_engines() {
    let wasm = example("echo");
    for engine in ENGINES {
        let outcome = runtime()
            .execute(
                wasm.clone(),
                Execution {
                    input: b"hello \xf0\x9f\x8c\x8d".to_vec(),
                    engine,
                    ..Execution::default()
                },
            )
            .await;
        assert_eq!(
            outcome.output,
            Some(ExecutionOutput::Text("hello 🌍".into())),
            "{engine:?}: {:?}",
            outcome.error
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_is_deterministic_across_100_runs() {
    let wasm = example("random");
    let first = runtime()
        .execute(wasm.clone(), request(7, r#"{"count": 8}"#))
        .await;
    let expected = json_output(&first);
    assert_eq!(expected["dice"].as_array().unwrap().len(), 8);
    assert_eq!(expected["request_id"], 7);
    for _ in 0..99 {
        let again = runtime()
            .execute(wasm.clone(), request(7, r#"{"count": 8}"#))
            .await;
        assert_eq!(json_output(&again), expected);
        assert_eq!(
            again.metrics.instructions, first.metrics.instructions,
            "same fuel"
        );
    }
    let other = runtime().execute(wasm, request(8, r#"{"count": 8}"#)).await;
    assert_ne!(
        json_output(&other)["dice"],
        expected["dice"],
        "another request rolls other dice"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_and_wasmi_agree_on_every_p1_example() {
    let cases = [
        ("echo", "same bytes out"),
        ("random", r#"{"count": 20}"#),
        ("secrets-env", ""),
        ("compute", "20000"),
    ];
    for (name, input) in cases {
        let wasm = example(name);
        let mut outputs = Vec::new();
        for engine in ENGINES {
            let mut exec = request(3, input);
            exec.response_format = ResponseFormat::Text;
            exec.engine = engine;
            exec.secrets.insert("API_KEY".into(), "k".into());
            let outcome = runtime().execute(wasm.clone(), exec).await;
            assert_eq!(
                outcome.error, None,
                "{name} on {engine:?}: {}",
                outcome.stderr
            );
            outputs.push(outcome.output);
        }
        assert_eq!(outputs[0], outputs[1], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_program_sees_context_and_secret_names_but_never_host_env() {
    let mut exec = request(42, "");
    exec.secrets.insert("API_KEY".into(), "sk-live-123".into());
    exec.secrets.insert("DB_PASSWORD".into(), "hunter2".into());
    let outcome = runtime().execute(example("secrets-env"), exec).await;
    let out = json_output(&outcome);
    assert_eq!(
        out["secrets"],
        json!([{"name": "API_KEY", "length": 11}, {"name": "DB_PASSWORD", "length": 7}])
    );
    assert_eq!(
        out["context"],
        json!({
            "request_id": 42,
            "sender_id": "alice.near",
            "predecessor_id": "app.alice.near",
            "contract_id": "outlayer.near",
            "block_height": 1234,
            "block_timestamp": 1_700_000_000_123_456_789u64,
            "transaction_hash": "8xTx",
            "max_instructions": 1_000_000_000u64,
            "max_memory_mb": 128,
            "max_execution_seconds": 60,
            "execution_type": "NEAR"
        })
    );
    let raw = serde_json::to_string(&out).unwrap();
    assert!(!raw.contains("sk-live-123") && !raw.contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn compute_gives_the_known_answer() {
    let outcome = runtime()
        .execute(
            example("compute"),
            Execution {
                input: b"100000".to_vec(),
                response_format: ResponseFormat::Json,
                ..Execution::default()
            },
        )
        .await;
    assert_eq!(json_output(&outcome)["primes"], 9592);
}
