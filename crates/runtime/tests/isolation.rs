//! Pooled instances (wasmtime's pooling allocator) leak nothing from one
//! execution to the next: a program that fills its memory and a global with
//! a secret, then any program (itself or another) run after it in the same
//! slots, finds zeroed memory and its globals at their initial values.

mod common;

use common::{ENGINES, on, run_wat, text};

/// Scans 4 pages (2 initial, 2 grown) and a mutable global for anything
/// but zero and prints `clean` or `dirty`; with `write`, then fills them
/// with a secret. `_start` does this `times` times in one instance.
fn program(write: bool, tag: &str, times: usize) -> String {
    let fill = if write {
        r#"(local.set $i (i32.const 64))
           (loop $fill
             (i64.store (local.get $i) (i64.const 0x5345435245542121))
             (local.set $i (i32.add (local.get $i) (i32.const 8)))
             (br_if $fill (i32.lt_u (local.get $i) (i32.const 262144))))
           (global.set $g (i64.const 0x5345435245542121))"#
    } else {
        ""
    };
    let calls = "(call $body)".repeat(times);
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (global $g (mut i64) (i64.const 0))
          (data (i32.const 16) "cleandirty")
          (func (export "{tag}"))
          (func (export "_start") {calls})
          (func $body (local $i i32) (local $dirty i32)
            (drop (memory.grow (i32.const 2)))
            (local.set $i (i32.const 64))
            (loop $scan
              (if (i64.ne (i64.load (local.get $i)) (i64.const 0))
                (then (local.set $dirty (i32.const 1))))
              (local.set $i (i32.add (local.get $i) (i32.const 8)))
              (br_if $scan (i32.lt_u (local.get $i) (i32.const 262144))))
            (if (i64.ne (global.get $g) (i64.const 0)) (then (local.set $dirty (i32.const 1))))
            {fill}
            (i32.store (i32.const 0) (i32.add (i32.const 16) (i32.mul (local.get $dirty) (i32.const 5))))
            (i32.store (i32.const 4) (i32.const 5))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_memory_or_global_survives_an_execution() {
    let writer = program(true, "writer", 1);
    let reader = program(false, "reader", 1);
    for engine in ENGINES {
        // The same program again (the slot it used is kept warm for it),
        // and another program after it.
        for wat in [&writer, &writer, &reader, &writer, &reader] {
            let outcome = run_wat(wat, on(engine)).await;
            assert_eq!(text(&outcome), "clean", "{engine:?}");
        }
        // Many at once, writers and readers mixed, several rounds: every
        // slot of the pool is used and reused.
        for _ in 0..4 {
            let mut runs = tokio::task::JoinSet::new();
            for n in 0..24 {
                let wat = if n % 3 == 0 {
                    reader.clone()
                } else {
                    writer.clone()
                };
                runs.spawn(async move { run_wat(&wat, on(engine)).await });
            }
            while let Some(outcome) = runs.join_next().await {
                assert_eq!(text(&outcome.unwrap()), "clean", "{engine:?}");
            }
        }
    }
}

/// The control: within one execution the secret is there to be found, so
/// the scan above would see one that survived.
#[tokio::test]
async fn the_scan_sees_what_one_execution_wrote() {
    for engine in ENGINES {
        let outcome = run_wat(&program(true, "twice", 2), on(engine)).await;
        assert_eq!(text(&outcome), "cleandirty", "{engine:?}");
    }
}
