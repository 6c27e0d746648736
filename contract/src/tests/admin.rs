//! Owner and operator controls, pause, pricing, caps and fee withdrawal.

use near_sdk::serde_json::json;
use outlayer_types::MaxLimits;

use super::*;

#[test]
fn owner_calls_need_the_owner_and_one_yocto() {
    let mut contract = setup();
    for (caller, deposit, expected) in [
        ("alice.near", 1, "only the owner can do this"),
        ("operator.near", 1, "only the owner can do this"),
        (
            "owner.near",
            0,
            "Requires attached deposit of exactly 1 yoctoNEAR",
        ),
        (
            "owner.near",
            2,
            "Requires attached deposit of exactly 1 yoctoNEAR",
        ),
    ] {
        call(caller, deposit);
        assert_eq!(refused(|| contract.set_owner(account("x.near"))), expected);
        assert_eq!(
            refused(|| contract.set_operator(account("x.near"))),
            expected
        );
        assert_eq!(refused(|| contract.set_paused(true)), expected);
        assert_eq!(
            refused(|| contract.set_pricing(Pricing::default())),
            expected
        );
        assert_eq!(
            refused(|| contract.set_max_limits(MaxLimits::default())),
            expected
        );
        assert_eq!(refused(|| contract.withdraw_fees(U128(0), None)), expected);
        assert_eq!(refused(|| contract.emergency_cancel_execution(0)), expected);
    }
    let config = contract.get_config();
    assert_eq!(
        (config.owner_id.as_str(), config.operator_id.as_str()),
        ("owner.near", "operator.near")
    );
    assert!(!config.paused);
}

#[test]
fn roles_change_hands() {
    let mut contract = setup();
    call("owner.near", 1);
    contract.set_operator(account("worker.near"));
    contract.set_owner(account("dao.near"));
    assert_eq!(
        refused(|| contract.set_paused(true)),
        "only the owner can do this"
    );
    call("dao.near", 1);
    contract.set_paused(true);
    let config = contract.get_config();
    assert_eq!(
        (
            config.owner_id.as_str(),
            config.operator_id.as_str(),
            config.paused
        ),
        ("dao.near", "worker.near", true)
    );

    request_while_paused_is_refused_but_settlement_goes_on();
}

fn request_while_paused_is_refused_but_settlement_goes_on() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    call("owner.near", 1);
    contract.set_paused(true);
    call("alice.near", SMALL_ESTIMATE);
    assert_eq!(
        refused(|| contract
            .request_execution(github(), Some(small_limits()), None, None, None, None)
            .detach()),
        "contract is paused: new requests are refused"
    );
    respond(&mut contract, 0, &success(0, 0, None));
    assert_eq!(
        transfers(),
        vec![("alice.near".to_owned(), SMALL_ESTIMATE - 1_000)]
    );
    call("owner.near", 1);
    contract.set_paused(false);
    request(&mut contract, SMALL_ESTIMATE);
    assert_eq!(contract.get_stats().pending_requests, 1);
}

#[test]
fn pricing_and_caps_are_validated_together() {
    let mut contract = setup();
    assert_eq!(contract.get_pricing(), round_pricing());
    assert_eq!(
        contract.estimate_execution_cost(Some(small_limits()), None),
        U128(SMALL_ESTIMATE)
    );
    call("owner.near", 1);
    let overflowing = Pricing {
        per_million_instructions: U128(u128::MAX / 1_000),
        ..round_pricing()
    };
    assert_eq!(
        refused(|| contract.set_pricing(overflowing)),
        "invalid pricing: the price of the largest allowed request overflows u128"
    );
    let caps = MaxLimits {
        max_instructions: 1_000_000,
        max_execution_seconds: 1,
        max_compile_seconds: 0,
        ..MaxLimits::default()
    };
    contract.set_max_limits(caps);
    assert_eq!(contract.get_max_limits(), caps);
    // No build time to pay for now.
    assert_eq!(
        contract.estimate_execution_cost(Some(small_limits()), None),
        U128(SMALL_ESTIMATE - 120_000)
    );
    assert_eq!(
        refused(|| {
            contract.estimate_execution_cost(None, None);
        }),
        "invalid resource_limits: max_instructions 1000000000 is above the cap 1000000"
    );
    assert_eq!(
        refused(|| contract.set_max_limits(MaxLimits {
            max_output_bytes: 0,
            ..caps
        })),
        "invalid max_limits: cap max_output_bytes must be at least 1"
    );
    assert_eq!(
        serde_json::to_value(contract.get_max_limits()).unwrap(),
        json!({
            "max_instructions": 1_000_000,
            "max_memory_mb": 512,
            "max_execution_seconds": 1,
            "max_compile_seconds": 0,
            "max_input_bytes": 65536,
            "max_output_bytes": 65536
        })
    );
}

#[test]
fn fees_can_be_withdrawn_up_to_what_was_charged() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    respond(&mut contract, 0, &success(0, 0, None)); // charges the base fee, 1000
    call("owner.near", 1);
    assert_eq!(
        refused(|| contract.withdraw_fees(U128(1_001), None)),
        "only 1000 yoctoNEAR of fees can be withdrawn"
    );
    contract.withdraw_fees(U128(600), None);
    assert_eq!(transfers(), vec![("owner.near".to_owned(), 600)]);
    call("owner.near", 1);
    contract.withdraw_fees(U128(400), Some(account("treasury.near")));
    assert_eq!(transfers(), vec![("treasury.near".to_owned(), 400)]);
    assert_eq!(
        refused(|| contract.withdraw_fees(U128(1), None)),
        "only 0 yoctoNEAR of fees can be withdrawn"
    );
    assert_eq!(
        serde_json::to_value(contract.get_stats()).unwrap(),
        json!({
            "total_requests": 1,
            "pending_requests": 0,
            "succeeded": 1,
            "failed": 0,
            "timed_out": 0,
            "cancelled": 0,
            "total_charged": "1000",
            "total_refunded": (SMALL_ESTIMATE - 1_000).to_string(),
            "fees_withdrawn": "1000", "unclaimed_refunds": "0"
        })
    );
}
