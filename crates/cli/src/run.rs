//! `outlayer run`: the worker's runtime and limits on a developer's machine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::ValueEnum;
use outlayer_runtime::{
    ErrorKind, Execution, ExecutionType, HttpPolicy, Outcome, P1Engine, Randomness, Runtime,
    RuntimeConfig, Script, cap_output, default_js_engine_path,
};
use outlayer_types::{ExecutionOutput, MaxLimits, ResourceLimits, ResponseFormat};
use serde_json::json;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The program: a WASI P1 module, a P2 component, or a JavaScript file
    /// (`.js` or `.mjs`, run on the QuickJS engine).
    wasm: PathBuf,
    /// The JavaScript engine (`scripts/build-js-engine`); default:
    /// `$OUTLAYER_JS_ENGINE`, beside this executable, or the build's output.
    #[arg(long, value_name = "WASM")]
    js_engine: Option<PathBuf>,
    /// Input (the program's stdin).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the input from a file (`-` for standard input).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// A variable for the program's environment (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_key_value)]
    env: Vec<(String, String)>,
    /// Secrets as a JSON object of name → value, exposed as environment variables.
    #[arg(long)]
    secrets_file: Option<PathBuf>,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_INSTRUCTIONS)]
    max_instructions: u64,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_MEMORY_MB)]
    max_memory_mb: u32,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_EXECUTION_SECONDS)]
    max_seconds: u64,
    /// Cap on the result, measured as the contract measures it (the JSON of
    /// the output); default: the contract's default `max_output_bytes`.
    #[arg(long, default_value_t = MaxLimits::default().max_output_bytes as usize)]
    max_output_bytes: usize,
    /// Engine for P1 modules (components always run on wasmtime).
    #[arg(long, value_enum, default_value_t = EngineArg::Wasmtime)]
    engine: EngineArg,
    /// How stdout becomes the result.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// 32 bytes of hex: make WASI randomness a deterministic stream.
    #[arg(long, value_name = "HEX64", value_parser = parse_seed)]
    seed: Option<[u8; 32]>,
    /// Allow outbound HTTP (P2) only to this host (repeatable). An IP literal
    /// or `localhost` also allows that private address.
    #[arg(long = "allow-http", value_name = "HOST")]
    allow_http: Vec<String>,
    /// Let the program read NEAR (view calls, accounts at final; P2 and
    /// JavaScript) through this JSON-RPC endpoint, as a worker's would.
    #[arg(long, value_name = "URL")]
    near_rpc_url: Option<String>,
    /// Print exactly one JSON object describing the outcome.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    Wasmtime,
    Wasmi,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Bytes,
}

fn parse_key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected K=V, got {arg:?}"))
}

fn parse_seed(arg: &str) -> Result<[u8; 32], String> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(arg, &mut seed).map_err(|e| format!("expected 64 hex characters: {e}"))?;
    Ok(seed)
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let program = std::fs::read(&args.wasm)
        .with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let execution = execution_from(&args)?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let outcome = if is_script(&args.wasm) {
        let script = Script {
            name: args
                .wasm
                .file_name()
                .map_or("program.js".into(), |n| n.to_string_lossy().into_owned()),
            source: String::from_utf8(program)
                .with_context(|| format!("{} is not UTF-8 text", args.wasm.display()))?,
        };
        let engine = load_js_engine(&runtime, args.js_engine.clone()).await?;
        runtime.run_script(&engine, &script, execution).await
    } else {
        runtime.execute(Arc::<[u8]>::from(program), execution).await
    };
    let outcome = cap_output(outcome, args.max_output_bytes);

    if args.json {
        println!("{}", outcome_json(&outcome));
    } else {
        print_human(&outcome)?;
    }
    Ok(match &outcome.error {
        None => ExitCode::SUCCESS,
        Some(f) if f.kind == ErrorKind::ReservedEnv => ExitCode::from(crate::USAGE_ERROR),
        Some(_) => ExitCode::FAILURE,
    })
}

fn is_script(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("js") || ext.eq_ignore_ascii_case("mjs"))
}

/// Reads and compiles the JavaScript engine (seconds the first time).
pub(crate) async fn load_js_engine(
    runtime: &Runtime,
    path: Option<PathBuf>,
) -> anyhow::Result<Arc<outlayer_runtime::Program>> {
    let path = path.unwrap_or_else(default_js_engine_path);
    let wasm = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read the JavaScript engine {} (build it with scripts/build-js-engine, or pass --js-engine)",
            path.display()
        )
    })?;
    let runtime = runtime.clone();
    tokio::task::spawn_blocking(move || runtime.load_js_engine(&wasm))
        .await?
        .map_err(|f| anyhow::anyhow!("the JavaScript engine {}: {}", path.display(), f.message))
}

fn execution_from(args: &Args) -> anyhow::Result<Execution> {
    let input = match (&args.input, &args.input_file) {
        (Some(text), _) => text.clone().into_bytes(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .context("cannot read standard input")?;
            buf
        }
        (None, Some(path)) => std::fs::read(path)
            .with_context(|| format!("cannot read input file {}", path.display()))?,
        (None, None) => Vec::new(),
    };
    let secrets: BTreeMap<String, String> = match &args.secrets_file {
        Some(path) => {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read secrets file {}", path.display()))?;
            // Never echo the file's content: it holds secrets.
            serde_json::from_slice(&text).map_err(|e| {
                anyhow::anyhow!(
                    "secrets file {} must be a JSON object of string values (line {}, column {})",
                    path.display(),
                    e.line(),
                    e.column()
                )
            })?
        }
        None => BTreeMap::new(),
    };
    if args.max_seconds == 0 || args.max_instructions == 0 || args.max_memory_mb == 0 {
        bail!("--max-seconds, --max-instructions and --max-memory-mb must be greater than zero");
    }
    Ok(Execution {
        input,
        args: Vec::new(),
        limits: ResourceLimits {
            max_instructions: args.max_instructions,
            max_memory_mb: args.max_memory_mb,
            max_execution_seconds: args.max_seconds,
        },
        response_format: match args.format {
            FormatArg::Text => ResponseFormat::Text,
            FormatArg::Json => ResponseFormat::Json,
            FormatArg::Bytes => ResponseFormat::Bytes,
        },
        context: None,
        execution_type: ExecutionType::Local,
        env: args.env.iter().cloned().collect(),
        secrets,
        randomness: args.seed.map_or(Randomness::Os, Randomness::Seeded),
        http: HttpPolicy {
            allowed_hosts: args.allow_http.clone(),
            request_timeout: Duration::from_secs(args.max_seconds.min(30)),
            ..HttpPolicy::default()
        },
        near: match &args.near_rpc_url {
            Some(url) => outlayer_worker::RpcReader::reads(
                outlayer_near_client::NearRpc::new(url.clone(), Duration::from_secs(30))?,
                5,
                outlayer_runtime::NearReads::DEFAULT_MAX_READS,
            ),
            None => None,
        },
        engine: match args.engine {
            EngineArg::Wasmtime => P1Engine::Wasmtime,
            EngineArg::Wasmi => P1Engine::Wasmi,
        },
        max_output_bytes: args.max_output_bytes,
    })
}

/// The `--json` shape: one object, stable field names.
pub(crate) fn outcome_json(outcome: &Outcome) -> serde_json::Value {
    let output = match &outcome.output {
        None => serde_json::Value::Null,
        Some(ExecutionOutput::Text(text)) => json!(text),
        Some(ExecutionOutput::Json(value)) => value.clone(),
        Some(ExecutionOutput::Bytes(bytes)) => {
            json!(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    };
    json!({
        "success": outcome.success(),
        "output": output,
        "error": outcome.error.as_ref().map(|f| json!({"kind": f.kind, "message": f.message})),
        "exit_code": outcome.exit_code,
        "metrics": outcome.metrics,
        "stderr": outcome.stderr,
    })
}

/// Program output on stdout; diagnostics and the summary on stderr, so the
/// result can be piped.
fn print_human(outcome: &Outcome) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match &outcome.output {
        Some(ExecutionOutput::Text(text)) => stdout.write_all(text.as_bytes())?,
        Some(ExecutionOutput::Json(value)) => writeln!(stdout, "{value:#}")?,
        Some(ExecutionOutput::Bytes(bytes)) => stdout.write_all(bytes)?,
        None => {}
    }
    stdout.flush()?;
    // Keep the summary off the output's last line on a terminal; the newline
    // goes to stderr so piped output stays byte for byte what the program wrote.
    let ends_open = match &outcome.output {
        Some(ExecutionOutput::Text(text)) => !text.is_empty() && !text.ends_with('\n'),
        Some(ExecutionOutput::Bytes(bytes)) => bytes.last().is_some_and(|b| *b != b'\n'),
        _ => false,
    };
    if ends_open {
        eprintln!();
    }
    if !outcome.stderr.is_empty() {
        eprintln!(
            "--- program stderr (tail) ---\n{}",
            outcome.stderr.trim_end()
        );
    }
    let m = &outcome.metrics;
    let status = match &outcome.error {
        None => "ok".to_owned(),
        Some(f) => format!("failed: {} ({})", f.kind, f.message),
    };
    eprintln!(
        "--- {status}\n    instructions {}  time {} ms  peak memory {:.1} MiB",
        m.instructions,
        m.time_ms,
        m.peak_memory_bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
