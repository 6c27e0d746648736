//! `outlayer bench runtime`: the execution path's figures side by side in
//! one run (see `outlayer_runtime::BenchOptions`). The coordinator's are
//! `outlayer coordinator bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use outlayer_runtime::{BenchOptions, Runtime, RuntimeConfig};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Floor, cached, compile-per-run, wasmi, throughput and metering of the sandbox.
    Runtime(RuntimeArgs),
}

#[derive(clap::Args)]
struct RuntimeArgs {
    /// One JSON object on one line instead of the table.
    #[arg(long)]
    json: bool,
    /// Executions timed per figure.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    iterations: u32,
    /// Seconds the throughput figure runs.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    throughput_seconds: u64,
    /// A WASI P1 program to measure instead of the built-in echo.
    #[arg(long)]
    program: Option<PathBuf>,
    /// The program's stdin.
    #[arg(long, default_value = "hello")]
    input: String,
    /// The JavaScript engine for the script start-up figure (default: where
    /// `outlayer run` finds it; left out when there is none).
    #[arg(long, value_name = "WASM")]
    js_engine: Option<PathBuf>,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let Command::Runtime(args) = args.command;
    let program = match &args.program {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let js_engine = match &args.js_engine {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => std::fs::read(outlayer_runtime::default_js_engine_path()).ok(),
    };
    let options = BenchOptions {
        iterations: args.iterations,
        throughput_time: Duration::from_secs(args.throughput_seconds),
        program,
        input: args.input.into_bytes(),
        js_engine,
    };
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let report = match runtime.bench(&options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let r = &report;
    println!("execution path (µs per execution, this machine, one run)");
    println!("  floor (wasmtime alone)       {:>10.1}", r.floor_us);
    println!(
        "  cached (ours, blocking)      {:>10.1}   {:.1}× floor",
        r.cached_us, r.cached_over_floor
    );
    println!("  cached (ours, async caller)  {:>10.1}", r.cached_async_us);
    println!(
        "  compile per run              {:>10.1}   {:.0}× cached",
        r.compile_per_run_us, r.compile_over_cached
    );
    println!("  wasmi (interpreter, cached)  {:>10.1}", r.wasmi_us);
    println!(
        "throughput                     {:>10.0} executions/s on {} threads",
        r.throughput_per_s, r.throughput_threads
    );
    println!(
        "metering (compute loop)        {:>10.1} ms metered, {:.1} ms unmetered: {:+.1}%",
        r.metered_compute_ms, r.unmetered_compute_ms, r.metering_overhead_pct
    );
    match (r.js_start_us, r.js_start_instructions) {
        (Some(us), Some(instructions)) => println!(
            "JavaScript start (QuickJS)     {:>10.0} µs per script, {instructions} instructions",
            us
        ),
        _ => println!("JavaScript start               (no engine: scripts/build-js-engine)"),
    }
    Ok(ExitCode::SUCCESS)
}
