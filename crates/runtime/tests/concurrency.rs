//! Many executions at once, each with its own limits, do not affect each other.

mod common;

use common::{p1_module, runtime, text, wasm};
use outlayer_runtime::{ErrorKind, Execution, P1Engine};
use outlayer_types::ResourceLimits;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_executions_keep_their_own_limits() {
    let hello = wasm(&p1_module(
        "hello",
        "(call $print (i32.const 1) (i32.const 1024) (i32.const 5))",
    ));
    let spin = wasm(&p1_module("", "(loop $l (br $l))"));
    let grow = wasm(&p1_module(
        "",
        "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable",
    ));
    let mut tasks = Vec::new();
    for i in 0..48u64 {
        let engine = if i % 2 == 0 {
            P1Engine::Wasmtime
        } else {
            P1Engine::Wasmi
        };
        let (program, limits, expected) = match i % 3 {
            0 => (hello.clone(), ResourceLimits::default(), None),
            1 => (
                spin.clone(),
                ResourceLimits {
                    max_instructions: 100_000 + i,
                    ..ResourceLimits::default()
                },
                Some(ErrorKind::FuelExhausted),
            ),
            _ => (
                grow.clone(),
                ResourceLimits {
                    max_memory_mb: 1 + (i % 5) as u32,
                    ..ResourceLimits::default()
                },
                Some(ErrorKind::MemoryLimit),
            ),
        };
        let runtime = runtime();
        tasks.push(tokio::spawn(async move {
            let outcome = runtime
                .execute(
                    program,
                    Execution {
                        engine,
                        limits,
                        ..Execution::default()
                    },
                )
                .await;
            (i, limits, expected, outcome)
        }));
    }
    for task in tasks {
        let (i, limits, expected, outcome) = task.await.unwrap();
        assert_eq!(outcome.error.as_ref().map(|e| e.kind), expected, "task {i}");
        match expected {
            None => assert_eq!(text(&outcome), "hello"),
            Some(ErrorKind::FuelExhausted) => {
                assert_eq!(outcome.metrics.instructions, limits.max_instructions)
            }
            _ => assert_eq!(
                outcome.metrics.peak_memory_bytes,
                u64::from(limits.max_memory_mb) * 1024 * 1024,
                "task {i}"
            ),
        }
    }
}
