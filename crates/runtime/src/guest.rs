//! Per-execution state shared by every engine: the guest's streams, its
//! environment, its clock and its deadline.

use std::sync::Arc;
use std::time::Instant;

use crate::clocks::GuestClock;
use crate::execution::Execution;
use crate::io::CappedOutput;
use crate::outcome::Failure;

/// stderr is diagnostics: keep this much of its tail.
pub(crate) const STDERR_TAIL_BYTES: usize = 64 * 1024;

/// The program's argv: no host path leaks through `argv[0]`.
pub(crate) const PROGRAM_NAME: &str = "program";

/// Raised (as a trap) when the wall-clock deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("wall-clock deadline of {seconds} s exceeded")]
pub(crate) struct DeadlineExceeded {
    pub(crate) seconds: u64,
}

impl wasmi::errors::HostError for DeadlineExceeded {}
impl wasmi::errors::HostError for crate::io::OutputLimitExceeded {}

pub(crate) struct Guest {
    pub(crate) stdout: CappedOutput,
    pub(crate) stderr: CappedOutput,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) clock: Arc<GuestClock>,
    pub(crate) started: Instant,
    pub(crate) deadline: Instant,
}

impl Guest {
    pub(crate) fn new(execution: &Execution) -> Result<Self, Failure> {
        let env = execution.guest_environment()?;
        let clock = match &execution.context {
            Some(ctx) => GuestClock::deterministic(ctx.block_timestamp),
            None => GuestClock::real(),
        };
        let started = Instant::now();
        Ok(Self {
            stdout: CappedOutput::failing_at(execution.max_output_bytes),
            stderr: CappedOutput::keeping_tail(STDERR_TAIL_BYTES),
            env,
            clock: Arc::new(clock),
            started,
            deadline: started + execution.deadline(),
        })
    }

    pub(crate) fn deadline_exceeded(&self, execution: &Execution) -> DeadlineExceeded {
        DeadlineExceeded {
            seconds: execution.limits.max_execution_seconds,
        }
    }
}
