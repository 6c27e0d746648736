//! What an execution costs. The contract charges with these functions and
//! services quote with them, so a quote and a charge can never disagree.
//!
//! All amounts are yoctoNEAR in `u128`; every step is checked, so a price
//! that would overflow is refused when it is set, not discovered when money
//! moves.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{ResourceLimits, ResourceMetrics, U128, ValidationError};

/// Prices in yoctoNEAR.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Charged for every settled request, successful or not.
    pub base_fee: U128,
    /// Per million instructions (fuel) the program consumed.
    pub per_million_instructions: U128,
    /// Per millisecond of execution wall-clock time.
    pub per_execution_ms: U128,
    /// Per millisecond of build time, when the request had to compile.
    pub per_compile_ms: U128,
}

impl Default for Pricing {
    /// 0.001 NEAR base; 0.000001 NEAR per million instructions;
    /// 0.0000001 NEAR per ms of execution or compilation. The default limits
    /// with the default build timeout estimate to 0.02 NEAR.
    fn default() -> Self {
        Self {
            base_fee: U128(1_000_000_000_000_000_000_000),
            per_million_instructions: U128(1_000_000_000_000_000_000),
            per_execution_ms: U128(100_000_000_000_000_000),
            per_compile_ms: U128(100_000_000_000_000_000),
        }
    }
}

/// How a payment splits at settlement. `charged + refunded == payment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub charged: u128,
    pub refunded: u128,
}

impl Settlement {
    /// Charges `cost`, at most the whole `payment`, and refunds the rest.
    pub fn new(cost: u128, payment: u128) -> Self {
        let charged = cost.min(payment);
        Self {
            charged,
            refunded: payment - charged,
        }
    }
}

impl Pricing {
    /// The price of this much usage; `None` when it does not fit in `u128`.
    pub fn cost_of(&self, instructions: u64, time_ms: u64, compile_ms: u64) -> Option<u128> {
        let instructions =
            u128::from(instructions).checked_mul(self.per_million_instructions.0)? / 1_000_000;
        let time = u128::from(time_ms).checked_mul(self.per_execution_ms.0)?;
        let compile = u128::from(compile_ms).checked_mul(self.per_compile_ms.0)?;
        self.base_fee
            .0
            .checked_add(instructions)?
            .checked_add(time)?
            .checked_add(compile)
    }

    /// The most a request with `limits` can cost: every instruction, every
    /// second, and a build that runs to the build timeout. A deposit of at
    /// least this much covers any settlement. `None` on overflow.
    pub fn estimate(&self, limits: &ResourceLimits, max_compile_seconds: u64) -> Option<u128> {
        self.cost_of(
            limits.max_instructions,
            limits.max_execution_seconds.checked_mul(1000)?,
            max_compile_seconds.checked_mul(1000)?,
        )
    }

    /// Settles a successful execution. Usage is clamped to what the request
    /// paid for (a worker cannot bill past the limits), so the cost never
    /// exceeds [`estimate`](Self::estimate); it is also capped at `payment`.
    pub fn settle_success(
        &self,
        limits: &ResourceLimits,
        max_compile_seconds: u64,
        used: &ResourceMetrics,
        payment: u128,
    ) -> Settlement {
        let instructions = used.instructions.min(limits.max_instructions);
        let time_ms = used
            .time_ms
            .min(limits.max_execution_seconds.saturating_mul(1000));
        let compile_ms = used
            .compile_time_ms
            .unwrap_or(0)
            .min(max_compile_seconds.saturating_mul(1000));
        let cost = self
            .cost_of(instructions, time_ms, compile_ms)
            .unwrap_or(u128::MAX);
        Settlement::new(cost, payment)
    }

    /// Settles a failure, a timeout or a stale cancel: the base fee only.
    pub fn settle_failure(&self, payment: u128) -> Settlement {
        Settlement::new(self.base_fee.0, payment)
    }
}

/// The largest limits a request may ask for, and the worker-side bounds the
/// worst-case price depends on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MaxLimits {
    pub max_instructions: u64,
    pub max_memory_mb: u32,
    pub max_execution_seconds: u64,
    /// The workers' build timeout: the longest compilation a request pays for.
    pub max_compile_seconds: u64,
    /// Largest `input_data` accepted (bytes).
    pub max_input_bytes: u32,
    /// Largest output a worker may deliver (bytes, as serialised JSON).
    pub max_output_bytes: u32,
}

impl Default for MaxLimits {
    /// Execution plus build fit in a NEAR yield window (200 blocks, about
    /// 2–4 minutes) with room for queueing.
    fn default() -> Self {
        Self {
            max_instructions: 10 * ResourceLimits::DEFAULT_MAX_INSTRUCTIONS,
            max_memory_mb: 512,
            max_execution_seconds: 60,
            max_compile_seconds: 120,
            max_input_bytes: 64 * 1024,
            max_output_bytes: 64 * 1024,
        }
    }
}

impl MaxLimits {
    /// The request's limits, each at least 1 and at most its cap.
    pub fn check(&self, limits: &ResourceLimits) -> Result<(), ValidationError> {
        let checks = [
            (
                "max_instructions",
                limits.max_instructions,
                self.max_instructions,
            ),
            (
                "max_memory_mb",
                u64::from(limits.max_memory_mb),
                u64::from(self.max_memory_mb),
            ),
            (
                "max_execution_seconds",
                limits.max_execution_seconds,
                self.max_execution_seconds,
            ),
        ];
        for (name, value, cap) in checks {
            if value == 0 {
                return Err(ValidationError(format!("{name} must be at least 1")));
            }
            if value > cap {
                return Err(ValidationError(format!(
                    "{name} {value} is above the cap {cap}"
                )));
            }
        }
        Ok(())
    }

    /// The largest limits a request may ask for.
    pub fn as_resource_limits(&self) -> ResourceLimits {
        ResourceLimits {
            max_instructions: self.max_instructions,
            max_memory_mb: self.max_memory_mb,
            max_execution_seconds: self.max_execution_seconds,
        }
    }

    /// Caps and prices work together: every cap at least 1, and the most
    /// expensive request these caps allow must have a price that fits in
    /// `u128`, so no settlement can overflow.
    pub fn check_with_pricing(&self, pricing: &Pricing) -> Result<(), ValidationError> {
        let caps = [
            ("max_instructions", self.max_instructions),
            ("max_memory_mb", u64::from(self.max_memory_mb)),
            ("max_execution_seconds", self.max_execution_seconds),
            ("max_input_bytes", u64::from(self.max_input_bytes)),
            ("max_output_bytes", u64::from(self.max_output_bytes)),
        ];
        if let Some((name, _)) = caps.iter().find(|(_, v)| *v == 0) {
            return Err(ValidationError(format!("cap {name} must be at least 1")));
        }
        match pricing.estimate(&self.as_resource_limits(), self.max_compile_seconds) {
            Some(_) => Ok(()),
            None => Err(ValidationError(
                "the price of the largest allowed request overflows u128".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_estimate_covers_limits_and_build() {
        let pricing = Pricing::default();
        let limits = ResourceLimits::default();
        // base 1e21 + 1000 M instr * 1e18 + 60_000 ms * 1e17 + 120_000 ms * 1e17
        let expected = 1_000_000_000_000_000_000_000u128
            + 1_000 * 1_000_000_000_000_000_000
            + 60_000 * 100_000_000_000_000_000
            + 120_000 * 100_000_000_000_000_000;
        assert_eq!(pricing.estimate(&limits, 120), Some(expected));
        assert_eq!(expected, 20_000_000_000_000_000_000_000);
    }

    #[test]
    fn success_clamps_usage_to_limits() {
        let pricing = Pricing {
            base_fee: U128(100),
            per_million_instructions: U128(1_000_000),
            per_execution_ms: U128(10),
            per_compile_ms: U128(1),
        };
        let limits = ResourceLimits {
            max_instructions: 50,
            max_memory_mb: 1,
            max_execution_seconds: 1,
        };
        let used = ResourceMetrics {
            instructions: 1_000,
            time_ms: 5_000,
            compile_time_ms: Some(9_000),
        };
        // 100 + 50 + 1000*10 + 2000*1
        let s = pricing.settle_success(&limits, 2, &used, 1_000_000);
        assert_eq!(s.charged, 12_150);
        assert_eq!(s.charged, pricing.estimate(&limits, 2).unwrap());
        assert_eq!(s.refunded, 1_000_000 - 12_150);
    }

    #[test]
    fn caps_are_checked() {
        let caps = MaxLimits::default();
        let mut limits = ResourceLimits::default();
        assert!(caps.check(&limits).is_ok());
        limits.max_memory_mb = 513;
        assert_eq!(
            caps.check(&limits).unwrap_err().0,
            "max_memory_mb 513 is above the cap 512"
        );
        limits.max_memory_mb = 0;
        assert_eq!(
            caps.check(&limits).unwrap_err().0,
            "max_memory_mb must be at least 1"
        );
        let huge = Pricing {
            per_execution_ms: U128(u128::MAX / 2),
            ..Pricing::default()
        };
        assert!(caps.check_with_pricing(&Pricing::default()).is_ok());
        assert!(caps.check_with_pricing(&huge).is_err());
    }
}
