//! `outlayer bench runtime` as a user runs it: one JSON object with every
//! figure, a program of one's own, and clear errors.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_outlayer"))
        .args([
            "bench",
            "runtime",
            "--iterations",
            "20",
            "--throughput-seconds",
            "1",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn json_has_every_figure_on_one_line() {
    let output = bench(&["--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "floor_us",
        "cached_us",
        "cached_async_us",
        "compile_per_run_us",
        "wasmi_us",
        "throughput_per_s",
        "metered_compute_ms",
        "unmetered_compute_ms",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
    assert!(report["metering_overhead_pct"].is_number());
    let ratio = report["cached_us"].as_f64().unwrap() / report["floor_us"].as_f64().unwrap();
    assert!((report["cached_over_floor"].as_f64().unwrap() - ratio).abs() < 1e-9);
    // Compiling every time can only cost more than finding it compiled.
    assert!(report["compile_over_cached"].as_f64().unwrap() > 1.0);
}

#[test]
fn a_program_that_fails_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let trap = dir.path().join("trap.wasm");
    std::fs::write(
        &trap,
        wat::parse_str(r#"(module (func (export "_start") unreachable))"#).unwrap(),
    )
    .unwrap();
    let output = bench(&["--program", trap.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("benchmark: the program failed: "),
        "{stderr}"
    );

    let missing = bench(&["--program", "/nonexistent/prog.wasm"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/prog.wasm"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
