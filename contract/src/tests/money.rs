//! Property tests for the money math: no overflow, the charge never exceeds
//! the payment, and charge plus refund is exactly the payment.

use outlayer_types::{MaxLimits, Pricing, ResourceLimits, ResourceMetrics, Settlement, U128};
use proptest::prelude::*;

fn pricing() -> impl Strategy<Value = Pricing> {
    // Up to 10^25 yoctoNEAR (10 NEAR) per unit: far beyond any sane price.
    let price = 0u128..=10u128.pow(25);
    (price.clone(), price.clone(), price.clone(), price).prop_map(|(a, b, c, d)| Pricing {
        base_fee: U128(a),
        per_million_instructions: U128(b),
        per_execution_ms: U128(c),
        per_compile_ms: U128(d),
    })
}

fn limits() -> impl Strategy<Value = ResourceLimits> {
    (1u64..=10_000_000_000, 1u32..=512, 1u64..=60).prop_map(|(i, m, s)| ResourceLimits {
        max_instructions: i,
        max_memory_mb: m,
        max_execution_seconds: s,
    })
}

fn usage() -> impl Strategy<Value = ResourceMetrics> {
    (
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(i, t, c)| ResourceMetrics {
            instructions: i,
            time_ms: t,
            compile_time_ms: c,
        })
}

proptest! {
    #[test]
    fn settlement_splits_the_payment_exactly(
        pricing in pricing(),
        limits in limits(),
        used in usage(),
        compile_s in 0u64..=600,
        payment in any::<u128>(),
    ) {
        let caps = MaxLimits { max_compile_seconds: compile_s, ..MaxLimits::default() };
        prop_assert!(caps.check_with_pricing(&pricing).is_ok(), "no overflow at these prices");
        let estimate = pricing.estimate(&limits, compile_s).expect("no overflow");
        for Settlement { charged, refunded } in [
            pricing.settle_success(&limits, compile_s, &used, payment),
            pricing.settle_failure(payment),
        ] {
            prop_assert!(charged <= payment);
            prop_assert_eq!(charged + refunded, payment);
        }
        // A deposit of the estimate always covers the real cost.
        let paid_estimate = pricing.settle_success(&limits, compile_s, &used, estimate);
        prop_assert!(paid_estimate.charged <= estimate);
        let exact = pricing.cost_of(
            used.instructions.min(limits.max_instructions),
            used.time_ms.min(limits.max_execution_seconds * 1000),
            used.compile_time_ms.unwrap_or(0).min(compile_s * 1000),
        ).expect("clamped usage does not overflow");
        prop_assert_eq!(paid_estimate.charged, exact, "nothing is capped away");
    }

    #[test]
    fn overflowing_prices_are_caught_not_wrapped(
        base in any::<u128>(),
        rate in any::<u128>(),
        used in usage(),
        payment in any::<u128>(),
    ) {
        let pricing = Pricing {
            base_fee: U128(base),
            per_million_instructions: U128(rate),
            per_execution_ms: U128(rate),
            per_compile_ms: U128(rate),
        };
        let limits = MaxLimits::default().as_resource_limits();
        let s = pricing.settle_success(&limits, 120, &used, payment);
        prop_assert_eq!(s.charged + s.refunded, payment);
        prop_assert!(s.charged <= payment);
    }
}
