//! Runtime benchmarks (`cargo bench -p outlayer-runtime`):
//! - per-execution overhead of a cached trivial program (echo), and
//!   executions per second with all cores busy;
//! - first run (compile) against a cached run.
//!
//! Metering overhead (fuel + epochs against the same engine unmetered) is
//! measured by `outlayer bench runtime`, on the runtime's own P1 host.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use outlayer_runtime::{Execution, P1Engine, Runtime, RuntimeConfig};

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn echo_overhead(c: &mut Criterion) {
    let rt = tokio_rt();
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let echo = common::example("echo");
    let mut group = c.benchmark_group("echo");
    for engine in [P1Engine::Wasmtime, P1Engine::Wasmi] {
        let program = runtime.load(&echo, engine).unwrap();
        group.bench_function(format!("cached run ({engine:?})"), |b| {
            b.to_async(&rt).iter(|| async {
                let exec = Execution {
                    input: b"hi".to_vec(),
                    engine,
                    ..Execution::default()
                };
                let outcome = runtime.run(&program, exec).await;
                assert!(outcome.success());
            })
        });
    }
    group.finish();

    // Throughput: keep 2×cores executions in flight for a fixed time.
    let program = runtime.load(&echo, P1Engine::Wasmtime).unwrap();
    let in_flight = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let elapsed = Duration::from_secs(3);
    let done = rt.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..in_flight {
            let runtime = runtime.clone();
            let program = program.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while started.elapsed() < elapsed {
                    let exec = Execution {
                        input: b"hi".to_vec(),
                        ..Execution::default()
                    };
                    assert!(runtime.run(&program, exec).await.success());
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total as f64 / started.elapsed().as_secs_f64()
    });
    println!("echo throughput: {done:.0} executions/s with {in_flight} in flight");
}

fn compile_vs_cached(c: &mut Criterion) {
    let compute = common::example("compute");
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("first load (compile)", |b| {
        b.iter_with_setup(
            || Runtime::new(RuntimeConfig::default()).unwrap(),
            |runtime| runtime.load(&compute, P1Engine::Wasmtime).unwrap(),
        )
    });
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    runtime.load(&compute, P1Engine::Wasmtime).unwrap();
    group.bench_function("cached load (hash + lookup)", |b| {
        b.iter(|| runtime.load(&compute, P1Engine::Wasmtime).unwrap())
    });
    group.finish();
}

criterion_group!(benches, echo_overhead, compile_vs_cached);
criterion_main!(benches);
