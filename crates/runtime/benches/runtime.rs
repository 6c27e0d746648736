//! Runtime benchmarks (`cargo bench -p outlayer-runtime`):
//! - per-execution overhead of a cached trivial program (echo), and
//!   executions per second with all cores busy;
//! - fuel + epoch metering overhead on `compute` against the same engine
//!   with metering off;
//! - first run (compile) against a cached run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use outlayer_runtime::{Execution, P1Engine, Runtime, RuntimeConfig};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

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

fn metering_overhead(c: &mut Criterion) {
    let rt = tokio_rt();
    let compute = common::example("compute");
    let input = b"30000".to_vec();
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let program = runtime.load(&compute, P1Engine::Wasmtime).unwrap();
    let mut group = c.benchmark_group("compute");
    group.sample_size(20);
    group.bench_function("metered (fuel + epoch)", |b| {
        b.to_async(&rt).iter(|| async {
            let exec = Execution {
                input: input.clone(),
                ..Execution::default()
            };
            assert!(runtime.run(&program, exec).await.success());
        })
    });

    // The same engine settings without fuel and epochs, same WASI setup.
    let mut config = wasmtime::Config::new();
    config
        .max_wasm_stack(1024 * 1024)
        .async_stack_size(2 * 1024 * 1024);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, &*compute).unwrap();
    let mut linker: wasmtime::Linker<wasmtime_wasi::p1::WasiP1Ctx> = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| s).unwrap();
    let pre = Arc::new(linker.instantiate_pre(&module).unwrap());
    group.bench_function("unmetered", |b| {
        b.to_async(&rt).iter(|| {
            let pre = pre.clone();
            let engine = engine.clone();
            let input = input.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let handle = tokio::runtime::Handle::current();
                    handle.block_on(async {
                        let wasi = wasmtime_wasi::WasiCtxBuilder::new()
                            .stdin(MemoryInputPipe::new(input))
                            .stdout(MemoryOutputPipe::new(1 << 20))
                            .build_p1();
                        let mut store = wasmtime::Store::new(&engine, wasi);
                        let instance = pre.instantiate_async(&mut store).await.unwrap();
                        let start = instance
                            .get_typed_func::<(), ()>(&mut store, "_start")
                            .unwrap();
                        start.call_async(&mut store, ()).await.unwrap();
                    })
                })
                .await
                .unwrap()
            }
        })
    });
    group.finish();
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

criterion_group!(benches, echo_overhead, metering_overhead, compile_vs_cached);
criterion_main!(benches);
