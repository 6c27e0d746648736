//! What one execution is given: input, limits, context, secrets and
//! capabilities. Everything a program can observe comes from here, nothing
//! from the host.

use std::collections::BTreeMap;
use std::time::Duration;

use outlayer_types::env::{CONTEXT_ENV_NAMES, FIXED_ENV, SecretNameError, check_secret_name};
use outlayer_types::{ExecutionContext, ResourceLimits, ResponseFormat};

use crate::http::HttpPolicy;
use crate::near::NearReads;
use crate::outcome::{ErrorKind, Failure};
use crate::random::Randomness;

/// Default stdout cap: the result a program can hand back.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// Which engine runs WASI P1 modules. Components always run on wasmtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum P1Engine {
    /// Cranelift-compiled, fastest for real work.
    #[default]
    Wasmtime,
    /// An interpreter: no native code generation at all.
    Wasmi,
}

/// How the program was invoked, exposed as `OUTLAYER_EXECUTION_TYPE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecutionType {
    /// A NEAR contract's `request_execution`.
    Near,
    /// An HTTPS API call.
    Https,
    /// `outlayer run` on a developer's machine.
    #[default]
    Local,
}

impl ExecutionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Near => "NEAR",
            Self::Https => "HTTPS",
            Self::Local => "LOCAL",
        }
    }
}

/// One execution's inputs and limits.
#[derive(Clone, Debug)]
pub struct Execution {
    /// The program's stdin.
    pub input: Vec<u8>,
    /// Arguments after `argv[0]` (which is always `program`). Requests pass
    /// none; the JavaScript engine gets its script here.
    pub args: Vec<String>,
    pub limits: ResourceLimits,
    pub response_format: ResponseFormat,
    /// The on-chain context; when set, clocks report its block timestamp.
    pub context: Option<ExecutionContext>,
    pub execution_type: ExecutionType,
    /// Plain (non-secret) variables, e.g. from `outlayer run --env`.
    pub env: BTreeMap<String, String>,
    /// Decrypted secrets. Names are checked like `env`; values are never
    /// logged or formatted into errors.
    pub secrets: BTreeMap<String, String>,
    pub randomness: Randomness,
    /// Outbound HTTP for P2 components; P1 modules never have network.
    pub http: HttpPolicy,
    /// NEAR reads for P2 components (and JavaScript); `None`: none.
    pub near: Option<NearReads>,
    pub engine: P1Engine,
    pub max_output_bytes: usize,
}

impl Default for Execution {
    fn default() -> Self {
        Self {
            input: Vec::new(),
            args: Vec::new(),
            limits: ResourceLimits::default(),
            response_format: ResponseFormat::Text,
            context: None,
            execution_type: ExecutionType::Local,
            env: BTreeMap::new(),
            secrets: BTreeMap::new(),
            randomness: Randomness::Os,
            http: HttpPolicy::default(),
            near: None,
            engine: P1Engine::Wasmtime,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

impl Execution {
    /// The wall-clock budget.
    pub(crate) fn deadline(&self) -> Duration {
        Duration::from_secs(self.limits.max_execution_seconds)
    }

    pub(crate) fn max_memory_bytes(&self) -> usize {
        (self.limits.max_memory_mb as usize).saturating_mul(1024 * 1024)
    }

    /// The guest's whole environment, in a fixed order: the fixed variables,
    /// the context and limits, then `env`, then secrets. A name the runtime
    /// reserves is refused (`reserved_env`), never dropped or overridden.
    pub(crate) fn guest_environment(&self) -> Result<Vec<(String, String)>, Failure> {
        let mut vars: Vec<(String, String)> = FIXED_ENV
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let limits = &self.limits;
        let mut context_vars: Vec<(&str, String)> = Vec::new();
        if let Some(ctx) = &self.context {
            context_vars.extend([
                ("NEAR_REQUEST_ID", ctx.request_id.to_string()),
                ("NEAR_SENDER_ID", ctx.sender_id.to_string()),
                ("NEAR_PREDECESSOR_ID", ctx.predecessor_id.to_string()),
                ("NEAR_CONTRACT_ID", ctx.contract_id.to_string()),
                ("NEAR_BLOCK_HEIGHT", ctx.block_height.to_string()),
                ("NEAR_BLOCK_TIMESTAMP", ctx.block_timestamp.to_string()),
            ]);
            if let Some(hash) = &ctx.transaction_hash {
                context_vars.push(("NEAR_TRANSACTION_HASH", hash.clone()));
            }
        }
        context_vars.extend([
            ("NEAR_MAX_INSTRUCTIONS", limits.max_instructions.to_string()),
            ("NEAR_MAX_MEMORY_MB", limits.max_memory_mb.to_string()),
            (
                "NEAR_MAX_EXECUTION_SECONDS",
                limits.max_execution_seconds.to_string(),
            ),
            (
                "OUTLAYER_EXECUTION_TYPE",
                self.execution_type.as_str().to_owned(),
            ),
        ]);
        debug_assert!(
            context_vars
                .iter()
                .all(|(k, _)| CONTEXT_ENV_NAMES.contains(k))
        );
        vars.extend(context_vars.into_iter().map(|(k, v)| (k.to_owned(), v)));

        for (source, map) in [("variable", &self.env), ("secret", &self.secrets)] {
            for (name, value) in map {
                check_secret_name(name).map_err(|e| {
                    let reason = match e {
                        SecretNameError::Reserved(_) => "is reserved by the runtime",
                        SecretNameError::Invalid(_) => "is not a valid environment variable name",
                    };
                    Failure::new(
                        ErrorKind::ReservedEnv,
                        format!("{source} {name:?} {reason}"),
                    )
                })?;
                vars.retain(|(existing, _)| existing != name);
                vars.push((name.clone(), value.clone()));
            }
        }
        Ok(vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(vars: &[(String, String)]) -> Vec<&str> {
        vars.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn environment_has_fixed_order_and_no_host_leak() {
        let mut exec = Execution::default();
        exec.env.insert("MODE".into(), "fast".into());
        exec.secrets.insert("API_KEY".into(), "s3cret".into());
        let vars = exec.guest_environment().unwrap();
        assert_eq!(
            names(&vars),
            [
                "TZ",
                "LANG",
                "NEAR_MAX_INSTRUCTIONS",
                "NEAR_MAX_MEMORY_MB",
                "NEAR_MAX_EXECUTION_SECONDS",
                "OUTLAYER_EXECUTION_TYPE",
                "MODE",
                "API_KEY"
            ]
        );
        assert!(vars.contains(&("OUTLAYER_EXECUTION_TYPE".into(), "LOCAL".into())));
        assert!(!vars.iter().any(|(k, _)| k == "PATH" || k == "HOME"));
    }

    #[test]
    fn reserved_names_are_refused_without_echoing_values() {
        for name in [
            "NEAR_SENDER_ID",
            "OUTLAYER_X",
            "TZ",
            "LANG",
            "NEAR_ANYTHING",
        ] {
            let mut exec = Execution::default();
            exec.secrets.insert(name.into(), "hunter2".into());
            let failure = exec.guest_environment().unwrap_err();
            assert_eq!(failure.kind, ErrorKind::ReservedEnv);
            assert_eq!(
                failure.message,
                format!("secret {name:?} is reserved by the runtime")
            );
        }
        let mut exec = Execution::default();
        exec.env.insert("BAD-NAME".into(), "x".into());
        assert_eq!(
            exec.guest_environment().unwrap_err().message,
            "variable \"BAD-NAME\" is not a valid environment variable name"
        );
    }
}
