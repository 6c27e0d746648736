//! Transfers that fail: a refund to an account that does not exist goes to
//! the caller who paid, and failing that is kept, counted and claimable;
//! a failed fee withdrawal makes the fees withdrawable again. No yoctoNEAR
//! is stranded, and the stats say what really happened.

use near_sdk::PromiseResult;
use outlayer_types::{OutlayerEvent, RefundFailed, U128};

use super::*;

fn refund_failed_events() -> Vec<RefundFailed> {
    logs()
        .iter()
        .filter_map(|line| match OutlayerEvent::from_log_line(line) {
            Some(Ok(OutlayerEvent::RefundFailed(events))) => Some(events),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A request paid by alice naming `payer` for the refund, settled: its refund.
fn settled_for(contract: &mut Contract, payer: &str) -> u128 {
    call("alice.near", NEAR);
    contract
        .request_execution(
            github(),
            Some(small_limits()),
            None,
            None,
            None,
            Some(account(payer)),
        )
        .detach();
    let refunded = contract.get_stats().total_refunded.0;
    respond(contract, 0, &success(1_000_000, 10, None));
    let refund = contract.get_stats().total_refunded.0 - refunded;
    assert_eq!(transfers(), vec![(payer.to_owned(), refund)]);
    refund
}

#[test]
fn a_refund_the_payer_cannot_take_goes_to_the_caller() {
    let mut contract = setup();
    let refund = settled_for(&mut contract, "ghost.near");
    let before = contract.get_stats();

    callback(PromiseResult::Failed, BLOCK + 6);
    contract.on_refund(
        account("ghost.near"),
        U128(refund),
        Some(account("alice.near")),
        true,
    );
    assert_eq!(transfers(), vec![("alice.near".to_owned(), refund)]);
    assert_eq!(
        refund_failed_events(),
        vec![RefundFailed {
            account_id: account("ghost.near"),
            amount: U128(refund),
            redirected_to: Some(account("alice.near")),
        }]
    );
    // Still refunded (to alice): nothing kept.
    assert_eq!(contract.get_stats(), before);
    assert_eq!(contract.get_stats().unclaimed_refunds, U128(0));
}

#[test]
fn a_refund_nobody_can_take_is_kept_counted_and_claimable() {
    let mut contract = setup();
    let refund = settled_for(&mut contract, "alice.near");
    let before = contract.get_stats();

    callback(PromiseResult::Failed, BLOCK + 6);
    contract.on_refund(account("alice.near"), U128(refund), None, true);
    assert!(transfers().is_empty());
    let after = contract.get_stats();
    assert_eq!(after.total_refunded.0, before.total_refunded.0 - refund);
    assert_eq!(after.unclaimed_refunds, U128(refund));
    assert_eq!(
        contract.get_unclaimed_refund(account("alice.near")),
        U128(refund)
    );
    // The owner cannot take it as fees.
    call("owner.near", 1);
    let too_much = after.total_charged.0 - after.fees_withdrawn.0 + 1;
    let message = refused(|| contract.withdraw_fees(U128(too_much), None));
    assert!(message.contains("can be withdrawn"), "{message}");

    // Alice takes it; a second claim finds nothing.
    call("alice.near", 0);
    assert_eq!(contract.claim_refund(), U128(refund));
    assert_eq!(transfers(), vec![("alice.near".to_owned(), refund)]);
    assert_eq!(contract.get_stats().unclaimed_refunds, U128(0));
    assert_eq!(
        contract.get_unclaimed_refund(account("alice.near")),
        U128(0)
    );
    call("alice.near", 0);
    assert_eq!(
        refused(|| {
            contract.claim_refund();
        }),
        "nothing is kept for this account"
    );
}

#[test]
fn a_transfer_that_arrived_changes_nothing() {
    let mut contract = setup();
    let refund = settled_for(&mut contract, "alice.near");
    let before = contract.get_stats();
    callback(PromiseResult::Successful(vec![]), BLOCK + 6);
    contract.on_refund(account("alice.near"), U128(refund), None, true);
    assert!(transfers().is_empty());
    assert!(refund_failed_events().is_empty());
    assert_eq!(contract.get_stats(), before);
}

#[test]
fn a_failed_fee_withdrawal_makes_the_fees_withdrawable_again() {
    let mut contract = setup();
    settled_for(&mut contract, "alice.near");
    let fees = contract.get_stats().total_charged;
    call("owner.near", 1);
    contract.withdraw_fees(fees, Some(account("ghost.near")));
    assert_eq!(transfers(), vec![("ghost.near".to_owned(), fees.0)]);
    assert_eq!(contract.get_stats().fees_withdrawn, fees);

    callback(PromiseResult::Failed, BLOCK + 7);
    contract.on_fee_withdrawal(account("ghost.near"), fees);
    assert_eq!(contract.get_stats().fees_withdrawn, U128(0));
    call("owner.near", 1);
    contract.withdraw_fees(fees, None);
    assert_eq!(transfers(), vec![("owner.near".to_owned(), fees.0)]);
}

#[test]
fn layout_1_state_migrates_with_nothing_kept() {
    let mut contract = setup();
    settled_for(&mut contract, "alice.near");
    request(&mut contract, NEAR);
    flush(&mut contract);
    // Layout 1 is layout 2 without its last two fields (the `unclaimed`
    // map's prefix and the total) and with version byte 0.
    let mut bytes = near_sdk::borsh::to_vec(&contract).unwrap();
    let tail = bytes.split_off(bytes.len() - 21);
    assert_eq!(tail[..5], [1, 0, 0, 0, 5], "the unclaimed map's prefix");
    assert_eq!(tail[5..], [0; 16], "nothing kept");
    bytes[0] = 0;
    near_sdk::env::storage_write(b"STATE", &bytes);
    call("outlayer.near", 0);
    let migrated = Contract::migrate();
    assert_eq!(migrated.get_config().state_version, 2);
    assert_eq!(migrated.get_stats(), contract.get_stats());
    assert_eq!(migrated.get_request(1), contract.get_request(1));
    assert_eq!(
        migrated.get_unclaimed_refund(account("alice.near")),
        U128(0)
    );
}
