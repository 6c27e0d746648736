//! How a run ended, mapped to the typed outcome in one place for both engines.
//! Precedence: our own limits first (output, deadline), then the program's
//! exit, then the engine's limits (fuel, stack), then memory (a refused
//! growth usually surfaces as some later trap), then any other trap.

use outlayer_types::{ExecutionOutput, ResponseFormat};

use crate::execution::Execution;
use crate::guest::{DeadlineExceeded, Guest};
use crate::io::OutputLimitExceeded;
use crate::outcome::{ErrorKind, Failure, Metrics, Outcome};

/// How the guest's entry point finished.
#[derive(Debug)]
pub(crate) enum RunEnd {
    /// Returned normally, or exited with code 0.
    Completed,
    /// `proc_exit` / `wasi:cli/exit` with a non-zero code.
    Exited(i32),
    Failed(Failure),
}

pub(crate) fn classify_wasmtime(error: &wasmtime::Error, memory_denied: Option<&str>) -> RunEnd {
    if let Some(e) = error.downcast_ref::<OutputLimitExceeded>() {
        return RunEnd::Failed(Failure::new(ErrorKind::OutputLimit, e.to_string()));
    }
    if let Some(e) = error.downcast_ref::<DeadlineExceeded>() {
        return RunEnd::Failed(Failure::new(ErrorKind::Timeout, e.to_string()));
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        if let Some(reason) = memory_denied.filter(|_| exit.0 != 0) {
            return RunEnd::Failed(Failure::new(ErrorKind::MemoryLimit, reason));
        }
        return exited(exit.0);
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        match trap {
            wasmtime::Trap::OutOfFuel => return fuel_exhausted(),
            wasmtime::Trap::StackOverflow => return stack_overflow(),
            wasmtime::Trap::Interrupt => {
                return RunEnd::Failed(Failure::new(ErrorKind::Timeout, "execution interrupted"));
            }
            _ => {}
        }
    }
    if let Some(reason) = memory_denied {
        return RunEnd::Failed(Failure::new(ErrorKind::MemoryLimit, reason));
    }
    let message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.to_string(),
    };
    RunEnd::Failed(Failure::new(ErrorKind::Trap, message))
}

pub(crate) fn classify_wasmi(error: &wasmi::Error, memory_denied: Option<&str>) -> RunEnd {
    if let Some(e) = error.downcast_ref::<OutputLimitExceeded>() {
        return RunEnd::Failed(Failure::new(ErrorKind::OutputLimit, e.to_string()));
    }
    if let Some(e) = error.downcast_ref::<DeadlineExceeded>() {
        return RunEnd::Failed(Failure::new(ErrorKind::Timeout, e.to_string()));
    }
    if let Some(code) = error.i32_exit_status() {
        if let Some(reason) = memory_denied.filter(|_| code != 0) {
            return RunEnd::Failed(Failure::new(ErrorKind::MemoryLimit, reason));
        }
        return exited(code);
    }
    match error.as_trap_code() {
        Some(wasmi::TrapCode::OutOfFuel) => return fuel_exhausted(),
        Some(wasmi::TrapCode::StackOverflow) => return stack_overflow(),
        _ => {}
    }
    if let Some(reason) = memory_denied {
        return RunEnd::Failed(Failure::new(ErrorKind::MemoryLimit, reason));
    }
    let message = match error.as_trap_code() {
        Some(code) => format!("wasm trap: {code}"),
        None => error.to_string(),
    };
    RunEnd::Failed(Failure::new(ErrorKind::Trap, message))
}

fn exited(code: i32) -> RunEnd {
    if code == 0 {
        RunEnd::Completed
    } else {
        RunEnd::Exited(code)
    }
}

fn fuel_exhausted() -> RunEnd {
    RunEnd::Failed(Failure::new(
        ErrorKind::FuelExhausted,
        "instruction budget (max_instructions) exhausted",
    ))
}

fn stack_overflow() -> RunEnd {
    RunEnd::Failed(Failure::new(
        ErrorKind::StackOverflow,
        "call stack exhausted",
    ))
}

/// Builds the outcome: decodes stdout on success, records metrics and the
/// stderr tail on every path.
pub(crate) fn finish(
    execution: &Execution,
    guest: &Guest,
    end: RunEnd,
    instructions: u64,
    peak_memory_bytes: u64,
) -> Outcome {
    let metrics = Metrics {
        near_reads: 0,
        instructions,
        time_ms: guest.started.elapsed().as_millis() as u64,
        peak_memory_bytes,
    };
    let stderr = String::from_utf8_lossy(&guest.stderr.contents()).into_owned();
    let (exit_code, result) = match end {
        RunEnd::Completed => (
            Some(0),
            decode(execution.response_format, guest.stdout.contents()),
        ),
        RunEnd::Exited(code) => (
            Some(code),
            Err(Failure::new(
                ErrorKind::Exit,
                format!("program exited with code {code}"),
            )),
        ),
        RunEnd::Failed(failure) => (None, Err(failure)),
    };
    let (output, error) = match result {
        Ok(output) => (Some(output), None),
        Err(failure) => (None, Some(failure)),
    };
    Outcome {
        output,
        error,
        exit_code,
        metrics,
        stderr,
    }
}

fn decode(format: ResponseFormat, stdout: Vec<u8>) -> Result<ExecutionOutput, Failure> {
    match format {
        ResponseFormat::Text => Ok(ExecutionOutput::Text(
            String::from_utf8(stdout)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )),
        ResponseFormat::Json => serde_json::from_slice(&stdout)
            .map(ExecutionOutput::Json)
            .map_err(|e| {
                Failure::new(
                    ErrorKind::InvalidOutput,
                    format!("stdout is not valid JSON: {e}"),
                )
            }),
        ResponseFormat::Bytes => Ok(ExecutionOutput::Bytes(stdout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_per_format() {
        assert_eq!(
            decode(ResponseFormat::Text, b"hi\xff".to_vec()).unwrap(),
            ExecutionOutput::Text("hi\u{fffd}".into())
        );
        assert_eq!(
            decode(ResponseFormat::Json, b" {\"a\":1}\n".to_vec()).unwrap(),
            ExecutionOutput::Json(serde_json::json!({"a": 1}))
        );
        let failure = decode(ResponseFormat::Json, b"nope".to_vec()).unwrap_err();
        assert_eq!(failure.kind, ErrorKind::InvalidOutput);
        assert!(
            failure
                .message
                .starts_with("stdout is not valid JSON: expected ident"),
            "{}",
            failure.message
        );
        assert_eq!(
            decode(ResponseFormat::Bytes, vec![0, 255]).unwrap(),
            ExecutionOutput::Bytes(vec![0, 255])
        );
    }
}
