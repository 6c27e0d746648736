//! Every limit, obeyed and violated, on both P1 engines.

mod common;

use common::{ENGINES, p1_module, run_wat, text};
use outlayer_runtime::{ErrorKind, Execution, P1Engine};
use outlayer_types::ResourceLimits;

fn execution(engine: P1Engine, limits: ResourceLimits) -> Execution {
    Execution {
        engine,
        limits,
        ..Execution::default()
    }
}

const INFINITE_LOOP: &str = "(loop $l (br $l))";

#[tokio::test(flavor = "multi_thread")]
async fn a_small_program_succeeds_and_reports_metrics() {
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module(
                "hello",
                "(call $print (i32.const 1) (i32.const 1024) (i32.const 5))",
            ),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!(text(&outcome), "hello");
        assert_eq!(outcome.exit_code, Some(0));
        let used = outcome.metrics.instructions;
        // Engines price instructions differently (wasmi charges host calls more).
        assert!(used > 0 && used < 1000, "{engine:?} used {used}");
        assert_eq!(outcome.metrics.peak_memory_bytes, 65536, "{engine:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fuel_runs_out() {
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_instructions: 1_000_000,
            ..ResourceLimits::default()
        };
        let outcome = run_wat(&p1_module("", INFINITE_LOOP), execution(engine, limits)).await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::FuelExhausted, "{engine:?}: {error}");
        assert_eq!(
            outcome.metrics.instructions, 1_000_000,
            "billed the whole budget"
        );
        assert_eq!(outcome.exit_code, None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fuel_is_enough_when_the_budget_covers_the_work() {
    // 1000 iterations of a 6-instruction loop body.
    let body = "(local $i i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))";
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_instructions: 100_000,
            ..ResourceLimits::default()
        };
        let outcome = run_wat(&p1_module("", body), execution(engine, limits)).await;
        assert_eq!(outcome.error, None, "{engine:?}");
        let used = outcome.metrics.instructions;
        assert!((1000..20_000).contains(&used), "{engine:?} used {used}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_stops_an_endless_loop() {
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_instructions: u64::MAX / 2,
            max_execution_seconds: 1,
            ..ResourceLimits::default()
        };
        let started = std::time::Instant::now();
        let outcome = run_wat(&p1_module("", INFINITE_LOOP), execution(engine, limits)).await;
        let elapsed = started.elapsed();
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::Timeout, "{engine:?}: {error}");
        assert_eq!(error.message, "wall-clock deadline of 1 s exceeded");
        assert_eq!(
            outcome.metrics.instructions,
            u64::MAX / 2,
            "timeouts bill the budget"
        );
        assert!(
            elapsed.as_secs_f64() < 5.0,
            "{engine:?} stopped after {elapsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_start_function_is_stopped() {
    let wat = format!(
        r#"(module (memory (export "memory") 1)
             (func $forever {INFINITE_LOOP}) (start $forever)
             (func (export "_start")))"#
    );
    // wasmtime interrupts it at the deadline.
    let limits = ResourceLimits {
        max_instructions: u64::MAX / 2,
        max_execution_seconds: 1,
        ..ResourceLimits::default()
    };
    let outcome = run_wat(&wat, execution(P1Engine::Wasmtime, limits)).await;
    assert_eq!(outcome.error.unwrap().kind, ErrorKind::Timeout);
    // wasmi cannot resume a start function, so the fuel budget bounds it.
    let limits = ResourceLimits {
        max_instructions: 50_000_000,
        max_execution_seconds: 1,
        ..ResourceLimits::default()
    };
    let outcome = run_wat(&wat, execution(P1Engine::Wasmi, limits)).await;
    assert_eq!(outcome.error.unwrap().kind, ErrorKind::FuelExhausted);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_grow_bomb_hits_the_memory_limit() {
    // Grow one page at a time until refused, then trap like an allocator would.
    let body = "(loop $l
          (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        unreachable";
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_memory_mb: 4,
            ..ResourceLimits::default()
        };
        let outcome = run_wat(&p1_module("", body), execution(engine, limits)).await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::MemoryLimit, "{engine:?}: {error}");
        assert!(
            error.message.contains("exceed the limit of 4194304 bytes"),
            "{}",
            error.message
        );
        assert_eq!(
            outcome.metrics.peak_memory_bytes,
            4 * 1024 * 1024,
            "{engine:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn growth_within_the_limit_is_fine_and_refusal_can_be_handled() {
    // A program that checks memory.grow's result and carries on succeeds.
    let body = "(if (i32.eq (memory.grow (i32.const 1000)) (i32.const -1))
          (then (call $print (i32.const 1) (i32.const 1024) (i32.const 7))))";
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_memory_mb: 8,
            ..ResourceLimits::default()
        };
        let outcome = run_wat(&p1_module("refused", body), execution(engine, limits)).await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!(text(&outcome), "refused");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_initial_memory_is_refused() {
    let wat = r#"(module (memory (export "memory") 4000) (func (export "_start")))"#;
    for engine in ENGINES {
        let outcome = run_wat(wat, execution(engine, ResourceLimits::default())).await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::MemoryLimit, "{engine:?}: {error}");
        assert_eq!(outcome.metrics.peak_memory_bytes, 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_memory_and_atomics_are_refused() {
    // Shared memory outlives a store's limits; neither engine is built to
    // accept the threads proposal.
    let shared = r#"(module (memory (export "memory") 1 1 shared) (func (export "_start")))"#;
    let atomics = r#"(module (memory (export "memory") 1)
        (func (export "_start") (drop (i32.atomic.load (i32.const 0)))))"#;
    for wat in [shared, atomics] {
        for engine in ENGINES {
            let outcome = run_wat(wat, execution(engine, ResourceLimits::default())).await;
            let error = outcome.error.expect("refused");
            assert_eq!(error.kind, ErrorKind::InvalidProgram, "{engine:?}: {error}");
            assert_eq!(outcome.metrics.instructions, 0, "{engine:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn table_growth_is_capped() {
    let wat = r#"(module (memory (export "memory") 1) (table $t 1 funcref)
        (func (export "_start")
          (loop $l
            (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 10000)) (i32.const -1))))
          unreachable))"#;
    for engine in ENGINES {
        let outcome = run_wat(wat, execution(engine, ResourceLimits::default())).await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::MemoryLimit, "{engine:?}: {error}");
        assert!(
            error.message.contains("table of 100001 elements"),
            "{}",
            error.message
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_recursion_is_a_clean_stack_overflow() {
    let wat = r#"(module (memory (export "memory") 1)
        (func $down (param i64) (result i64) (i64.add (call $down (local.get 0)) (i64.const 1)))
        (func (export "_start") (drop (call $down (i64.const 0)))))"#;
    for engine in ENGINES {
        let outcome = run_wat(wat, execution(engine, ResourceLimits::default())).await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::StackOverflow, "{engine:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stdout_flood_is_stopped_at_the_cap() {
    // Writes 64 KiB (the whole first memory page) forever.
    let body = "(loop $l (call $print (i32.const 1) (i32.const 0) (i32.const 65536)) (br $l))";
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module("", body),
            Execution {
                engine,
                max_output_bytes: 200_000,
                ..Execution::default()
            },
        )
        .await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::OutputLimit, "{engine:?}: {error}");
        assert_eq!(error.message, "stdout exceeded 200000 bytes");
        assert_eq!(outcome.output, None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn output_exactly_at_the_cap_is_allowed() {
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module(
                "hello",
                "(call $print (i32.const 1) (i32.const 1024) (i32.const 5))",
            ),
            Execution {
                engine,
                max_output_bytes: 5,
                ..Execution::default()
            },
        )
        .await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!(text(&outcome), "hello");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stderr_flood_keeps_a_bounded_tail() {
    // 200 writes of 64 KiB to stderr (12.5 MiB), then a final marker.
    let body = "(local $i i32)
        (loop $l
          (call $print (i32.const 2) (i32.const 0) (i32.const 65536))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
        (call $print (i32.const 2) (i32.const 1024) (i32.const 4))";
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module("END!", body),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!(outcome.stderr.len(), 64 * 1024, "{engine:?}");
        assert!(outcome.stderr.ends_with("END!"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes() {
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module("", "(call $proc_exit (i32.const 3))"),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        let error = outcome.error.expect("fails");
        assert_eq!(
            (error.kind, outcome.exit_code),
            (ErrorKind::Exit, Some(3)),
            "{engine:?}"
        );
        assert_eq!(error.message, "program exited with code 3");

        let outcome = run_wat(
            &p1_module("ok", "(call $print (i32.const 1) (i32.const 1024) (i32.const 2)) (call $proc_exit (i32.const 0))"),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!((text(&outcome), outcome.exit_code), ("ok", Some(0)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn traps_carry_their_message() {
    for engine in ENGINES {
        let outcome = run_wat(
            &p1_module("", "unreachable"),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::Trap, "{engine:?}");
        assert!(
            error.message.contains("unreachable"),
            "{engine:?}: {}",
            error.message
        );

        let outcome = run_wat(
            &p1_module("", "(drop (i32.div_u (i32.const 1) (i32.const 0)))"),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::Trap, "{engine:?}");
        assert!(
            error.message.contains("divide by zero") || error.message.contains("division by zero"),
            "{engine:?}: {}",
            error.message
        );
    }
}

/// Sleeps `nanos` in `poll_oneoff` on the monotonic clock, then writes
/// "woke" if exactly its one subscription (userdata 42) fired.
fn sleeper(nanos: u64) -> String {
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "woke")
          (func (export "_start")
            (i64.store (i32.const 2048) (i64.const 42))
            (i32.store8 (i32.const 2056) (i32.const 0))
            (i32.store (i32.const 2064) (i32.const 1))
            (i64.store (i32.const 2072) (i64.const {nanos}))
            (i32.store16 (i32.const 2088) (i32.const 0))
            (if (call $poll (i32.const 2048) (i32.const 4096) (i32.const 1) (i32.const 16))
              (then unreachable))
            (if (i32.ne (i32.load (i32.const 16)) (i32.const 1)) (then unreachable))
            (if (i64.ne (i64.load (i32.const 4096)) (i64.const 42)) (then unreachable))
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 4))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_sleeps_and_wakes() {
    for engine in ENGINES {
        let started = std::time::Instant::now();
        let outcome = run_wat(
            &sleeper(50_000_000),
            execution(engine, ResourceLimits::default()),
        )
        .await;
        assert_eq!(outcome.error, None, "{engine:?}");
        assert_eq!(text(&outcome), "woke");
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(50),
            "{engine:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_stops_a_sleeping_program() {
    for engine in ENGINES {
        let limits = ResourceLimits {
            max_execution_seconds: 1,
            ..ResourceLimits::default()
        };
        let started = std::time::Instant::now();
        let outcome = run_wat(&sleeper(60_000_000_000), execution(engine, limits)).await;
        let elapsed = started.elapsed();
        let error = outcome.error.expect("fails");
        assert_eq!(error.kind, ErrorKind::Timeout, "{engine:?}: {error}");
        assert_eq!(error.message, "wall-clock deadline of 1 s exceeded");
        assert!(
            elapsed.as_secs_f64() > 0.9 && elapsed.as_secs_f64() < 3.0,
            "{engine:?} stopped after {elapsed:?}"
        );
    }
}
