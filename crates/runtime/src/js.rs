//! JavaScript programs: the engine (QuickJS built as a WASI P2 component,
//! `js-engine/`) is an ordinary program, loaded and compiled once like any
//! other; a script is its argument. So a script gets exactly the sandbox a
//! WASI program gets: fuel counts the engine's instructions, memory,
//! deadline and output caps apply, secrets arrive as environment variables,
//! `fetch` goes through the same [`crate::HttpPolicy`].

use std::path::PathBuf;
use std::sync::Arc;

use outlayer_types::limits::truncate_error;

use crate::execution::Execution;
use crate::outcome::{ErrorKind, Failure, Outcome};
use crate::program::Program;
use crate::runtime::Runtime;

/// File name of the built engine (`scripts/build-js-engine`).
pub const JS_ENGINE_FILE: &str = "outlayer-js-engine.wasm";

/// Where to find the engine when none is named: `$OUTLAYER_JS_ENGINE`, then
/// beside the running executable, then where `scripts/build-js-engine`
/// puts it (`$CARGO_TARGET_DIR/js-engine/`, by default under
/// `~/.cache/outlayer/target`). The first that exists, or the first candidate.
pub fn default_js_engine_path() -> PathBuf {
    if let Some(path) = std::env::var_os("OUTLAYER_JS_ENGINE") {
        return PathBuf::from(path);
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        candidates.push(dir.join(JS_ENGINE_FILE));
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/outlayer/target"))
        });
    if let Some(dir) = target_dir {
        candidates.push(dir.join("js-engine").join(JS_ENGINE_FILE));
    }
    candidates
        .iter()
        .find(|path| path.is_file())
        .or(candidates.first())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(JS_ENGINE_FILE))
}

/// A script to run: its source and the name its errors cite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// `program.js` for inline code, the path for a file from a repository.
    pub name: String,
    pub source: String,
}

impl Runtime {
    /// Loads the engine: it must be a component (it uses `wasi:http`).
    /// Blocking, like [`Runtime::load`]: the first load compiles.
    pub fn load_js_engine(&self, wasm: &[u8]) -> Result<Arc<Program>, Failure> {
        if crate::program::detect(wasm)? != crate::program::BinaryKind::Component {
            return Err(Failure::new(
                ErrorKind::InvalidProgram,
                "the JavaScript engine must be a WASI P2 component (scripts/build-js-engine)",
            ));
        }
        self.load(wasm, crate::P1Engine::Wasmtime)
    }

    /// Runs `script` on `engine` (from [`Runtime::load_js_engine`]). An
    /// error in the script fails the run with the engine's one-line report,
    /// `name:line:column: Uncaught Kind: message`, as the message.
    pub async fn run_script(
        &self,
        engine: &Arc<Program>,
        script: &Script,
        execution: Execution,
    ) -> Outcome {
        script_outcome(self.run(engine, with_script(execution, script)).await)
    }

    /// [`Runtime::run_script`] on the caller's thread, as
    /// [`Runtime::run_blocking`].
    pub fn run_script_blocking(
        &self,
        engine: &Program,
        script: &Script,
        execution: Execution,
    ) -> Outcome {
        script_outcome(self.run_blocking(engine, with_script(execution, script)))
    }
}

/// The engine's arguments: the name errors cite, then the source.
fn with_script(execution: Execution, script: &Script) -> Execution {
    Execution {
        args: vec![script.name.clone(), script.source.clone()],
        ..execution
    }
}

/// The engine exits with 1 after writing the script's error as the last
/// line of stderr; that line is the failure's message.
fn script_outcome(mut outcome: Outcome) -> Outcome {
    let script_error = outcome.exit_code == Some(1)
        && outcome
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Exit);
    if script_error
        && let Some(report) = outcome.stderr.lines().rev().find(|l| !l.trim().is_empty())
    {
        outcome.error = Some(Failure::new(ErrorKind::Exit, truncate_error(report)));
    }
    outcome
}
