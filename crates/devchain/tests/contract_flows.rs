//! The real contract wasm on the local chain: requests settled by resume,
//! by failure and by timeout, with every yoctoNEAR accounted for; secrets
//! with storage deposits; the paused contract; refused callers.

mod common;

use common::{Local, answer_42, completed_event, panic_message, request_args};
use outlayer_devchain::state::STORAGE_PRICE_PER_BYTE;
use outlayer_devchain::{FinalStatus, ONE_NEAR};
use serde_json::json;

/// The deposit the test pricing needs for `request_args()`'s limits.
const PAID: u128 = 1_000 + 10 + 2_000 + 120_000;

#[test]
fn request_resolve_refunds_the_exact_rest() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    assert_eq!(
        local.view(
            "estimate_execution_cost",
            json!({"resource_limits": request_args()["resource_limits"]})
        ),
        json!(PAID.to_string())
    );
    let contract = local.accounts().contract.clone();
    let alice_before = local.user_balance("alice");
    let contract_before = local.balance(&contract);

    let request = local.send("alice", "request_execution", request_args(), PAID, 300);
    // The event is in the block that executed the request.
    let logs = local.logs(&request);
    assert!(
        logs[0].starts_with(r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_requested""#),
        "{logs:?}"
    );
    assert_eq!(
        local.chain.final_status(&request),
        Some(FinalStatus::Started),
        "waits on the yield"
    );
    assert_eq!(
        local.view("get_pending_requests", json!({}))[0]["request"]["context"]["request_id"],
        json!(0)
    );

    let response = answer_42();
    let resolve = local.resolve("operator", response);
    assert_eq!(resolve, FinalStatus::Success(vec![]));

    // The request's own transaction now ends with the callback's value.
    assert_eq!(
        local.settle(&request),
        FinalStatus::Success(br#""42""#.to_vec())
    );
    let charged = 1_000 + 3 + 500 + 4_000;
    let event = completed_event(&local.logs(&request));
    assert_eq!(event["charged"], json!(charged.to_string()));
    assert_eq!(event["refunded"], json!((PAID - charged).to_string()));
    // Alice paid the charge and the gas her transaction burnt: nothing else.
    assert_eq!(
        alice_before - local.user_balance("alice"),
        charged + local.burnt(&request)
    );
    assert_eq!(local.balance(&contract) - contract_before, charged);
    assert_eq!(local.view("get_pending_requests", json!({})), json!([]));
}

#[test]
fn a_failed_execution_charges_the_base_fee() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let alice_before = local.user_balance("alice");
    let request = local.send("alice", "request_execution", request_args(), PAID, 300);
    let response = json!({"success": false, "error": "trap: unreachable",
        "resources_used": {"instructions": 5, "time_ms": 1, "compile_time_ms": 0}});
    let resolve = local.resolve("operator", response);
    assert_eq!(resolve, FinalStatus::Success(vec![]));
    assert_eq!(
        local.settle(&request),
        FinalStatus::Success(b"null".to_vec())
    );
    let event = completed_event(&local.logs(&request));
    assert_eq!(event["success"], json!(false));
    assert_eq!(event["error"], json!("trap: unreachable"));
    assert_eq!(event["charged"], json!("1000"));
    assert_eq!(
        alice_before - local.user_balance("alice"),
        1_000 + local.burnt(&request)
    );
}

#[test]
fn an_unanswered_request_times_out_after_the_yield_window() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let alice_before = local.user_balance("alice");
    let request = local.send("alice", "request_execution", request_args(), PAID, 300);
    let window = local.chain.config.yield_timeout_blocks;
    assert_eq!(
        window, 200,
        "yield_timeout_length_in_blocks of nearcore's protocol 88"
    );
    // The yield was created in the block that ran `request_execution`.
    let created = local.chain.head().height;
    // nearcore times the yield out at created + 200 (`expires_at <= height` in
    // `resolve_promise_yield_timeouts`) and forwards the resume receipt, which
    // runs in the next block: the callback is at created + 201.
    for _ in 0..window {
        local.chain.produce_block();
    }
    assert_eq!(local.chain.head().height, created + 200);
    let completed = |local: &Local| {
        local
            .logs(&request)
            .iter()
            .any(|l| l.contains("\"execution_completed\""))
    };
    assert!(
        !completed(&local),
        "the timeout resume is produced at +200 and has not run yet"
    );
    assert_eq!(
        local.chain.final_status(&request),
        Some(FinalStatus::Started)
    );
    local.chain.produce_block();
    assert_eq!(local.chain.head().height, created + 201);
    assert!(completed(&local), "the callback runs at +201");
    assert_eq!(
        local.settle(&request),
        FinalStatus::Success(b"null".to_vec())
    );
    let event = completed_event(&local.logs(&request));
    assert_eq!(
        event["error"],
        json!("timeout: no response within the yield window")
    );
    assert_eq!(event["charged"], json!("1000"));
    assert_eq!(
        alice_before - local.user_balance("alice"),
        1_000 + local.burnt(&request)
    );

    // The operator's late answer is refused: the yield is gone.
    let late = json!({"request_id": 0, "response": {"success": true, "output": {"Text": "late"},
        "resources_used": {"instructions": 1, "time_ms": 1, "compile_time_ms": 0}}});
    let refused = local.call("operator", "resolve_execution", late, 0);
    assert!(
        panic_message(&refused).starts_with("request 0"),
        "{refused:?}"
    );
}

#[test]
fn secrets_pay_for_their_storage_and_get_it_back() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let contract = local.accounts().contract.clone();
    let secrets = json!({"accessor": {"Repo": {"repo": "alice/app"}}, "profile": "p",
        "encrypted_secrets_base64": "c2VjcmV0", "access": "AllowAll"});
    let mut estimate_args = secrets.clone();
    estimate_args["owner"] = json!("alice.test.near");
    let deposit: u128 = local
        .view("estimate_storage_cost", estimate_args)
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let usage_before = local.chain.state.account(&contract).unwrap().storage_usage;
    let alice_before = local.user_balance("alice");

    let store = local.send("alice", "store_secrets", secrets, deposit, 300);
    assert_eq!(local.settle(&store), FinalStatus::Success(vec![]));
    let usage = local.chain.state.account(&contract).unwrap().storage_usage;
    assert_eq!(
        u128::from(usage - usage_before) * STORAGE_PRICE_PER_BYTE,
        deposit
    );
    assert_eq!(
        alice_before - local.user_balance("alice"),
        deposit + local.burnt(&store)
    );
    assert_eq!(
        local.view(
            "list_user_secrets",
            json!({"account_id": "alice.test.near"})
        )[0]["profile"],
        json!("p")
    );

    let alice_before = local.user_balance("alice");
    let delete = local.send(
        "alice",
        "delete_secrets",
        json!({"accessor": {"Repo": {"repo": "alice/app"}}, "profile": "p"}),
        1,
        300,
    );
    assert_eq!(local.settle(&delete), FinalStatus::Success(vec![]));
    assert_eq!(
        local.chain.state.account(&contract).unwrap().storage_usage,
        usage_before
    );
    // The storage deposit comes back with the 1 yoctoNEAR confirmation.
    assert_eq!(
        local.user_balance("alice") + local.burnt(&delete),
        alice_before + deposit
    );
}

#[test]
fn a_paused_contract_refuses_requests_and_returns_the_deposit() {
    let Some(mut local) = Local::start() else {
        return;
    };
    assert_eq!(
        local.call("owner", "set_paused", json!({"paused": true}), 1),
        FinalStatus::Success(vec![])
    );
    let alice_before = local.user_balance("alice");
    let request = local.send("alice", "request_execution", request_args(), ONE_NEAR, 300);
    let status = local.settle(&request);
    assert_eq!(
        panic_message(&status),
        "contract is paused: new requests are refused"
    );
    assert_eq!(
        alice_before - local.user_balance("alice"),
        local.burnt(&request)
    );

    let by_alice = local.call("alice", "set_paused", json!({"paused": false}), 1);
    assert!(panic_message(&by_alice).contains("owner"), "{by_alice:?}");
}

#[test]
fn only_the_operator_resolves() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let request = local.send("alice", "request_execution", request_args(), PAID, 300);
    let response = json!({"success": true, "output": {"Text": "forged"},
        "resources_used": {"instructions": 1, "time_ms": 1, "compile_time_ms": 0}});
    let forged = local.resolve("bob", response);
    assert_eq!(panic_message(&forged), "only the operator can do this");
    let callback = local.call("bob", "on_execution_response", json!({"request_id": 0}), 0);
    assert_eq!(
        panic_message(&callback),
        "Method on_execution_response is private"
    );
    assert_eq!(
        local.chain.final_status(&request),
        Some(FinalStatus::Started)
    );
}

#[test]
fn too_little_gas_for_a_request_is_refused() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let request = local.send("alice", "request_execution", request_args(), ONE_NEAR, 99);
    let status = local.settle(&request);
    assert_eq!(
        panic_message(&status),
        "attach at least 100 Tgas (got 99 Tgas)"
    );
}

#[test]
fn no_yoctonear_is_created_or_lost() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let supply = |l: &Local| l.chain.state.total_balance() + l.chain.total_burnt;
    let before = supply(&local);
    let request = local.send("alice", "request_execution", request_args(), PAID, 300);
    let response = answer_42();
    local.resolve("operator", response);
    local.settle(&request);
    assert_eq!(supply(&local), before);
}

/// The contract's gas constants measured in nearcore's VM: a request must
/// fit `MIN_REQUEST_GAS` (100 Tgas) with `CALLBACK_GAS` (30 Tgas) reserved,
/// and the callback must settle within its reservation, even with an output
/// at the resume payload's limit.
#[test]
fn gas_constants_have_headroom() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let request = local.send("alice", "request_execution", request_args(), PAID, 100);
    let output = "x".repeat(900);
    let response = json!({"success": true, "output": {"Text": output},
        "resources_used": {"instructions": 300_000, "time_ms": 250, "compile_time_ms": 4_000}});
    let resolve = local.send(
        "operator",
        "resolve_execution",
        json!({"request_id": 0, "response": response}),
        0,
        300,
    );
    assert_eq!(local.settle(&resolve), FinalStatus::Success(vec![]));
    assert!(matches!(local.settle(&request), FinalStatus::Success(_)));

    let tgas = |gas: u64| gas as f64 / 1e12;
    let record = &local.chain.transactions[&request];
    let request_gas = local.chain.outcomes[&record.receipts[0]].gas_burnt;
    let callback_gas = local.chain.outcomes[&record.receipts[1]].gas_burnt;
    let resolve_gas =
        local.chain.outcomes[&local.chain.transactions[&resolve].receipts[0]].gas_burnt;
    eprintln!(
        "gas burnt: request_execution {:.2} Tgas, resolve_execution {:.2} Tgas, on_execution_response {:.2} Tgas",
        tgas(request_gas),
        tgas(resolve_gas),
        tgas(callback_gas)
    );
    assert!(
        request_gas < 35_000_000_000_000,
        "request leaves room for the 30 Tgas callback in 100 Tgas"
    );
    assert!(
        callback_gas < 20_000_000_000_000,
        "callback fits its 30 Tgas reservation with margin"
    );
    assert!(resolve_gas < 30_000_000_000_000);
}

/// A refund to a payer that does not exist fails in nearcore's runtime
/// (`AccountDoesNotExist`) and comes back to the contract; the contract sends
/// it on to the caller who paid. Nothing is kept, nothing created or lost.
#[test]
fn a_refund_to_a_missing_payer_goes_to_the_caller() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let supply = |l: &Local| l.chain.state.total_balance() + l.chain.total_burnt;
    let supply_before = supply(&local);
    let alice_before = local.user_balance("alice");
    let mut args = request_args();
    args["payer_account_id"] = json!("ghost.test.near");
    let request = local.send("alice", "request_execution", args, PAID, 300);
    local.resolve("operator", answer_42());
    assert!(matches!(local.settle(&request), FinalStatus::Success(_)));

    let logs = local.logs(&request);
    let event = completed_event(&logs);
    let charged: u128 = event["charged"].as_str().unwrap().parse().unwrap();
    let refunded: u128 = event["refunded"].as_str().unwrap().parse().unwrap();
    assert_eq!(charged + refunded, PAID);
    let failed = logs
        .iter()
        .find(|l| l.contains("\"refund_failed\""))
        .expect("a refund_failed event");
    assert!(
        failed.contains(&format!(
            r#""account_id":"ghost.test.near","amount":"{refunded}","redirected_to":"alice.test.near""#
        )),
        "{failed}"
    );
    assert_eq!(
        alice_before - local.user_balance("alice"),
        charged + local.burnt(&request),
        "alice got the refund"
    );
    let stats = local.view("get_stats", json!({}));
    assert_eq!(stats["unclaimed_refunds"], json!("0"));
    assert_eq!(stats["total_refunded"], json!(refunded.to_string()));
    assert_eq!(supply(&local), supply_before);
}

/// An input of 9,000 quotes is under 10 KiB raw but 18 KiB escaped: it goes
/// to state, so the event's log line stays under nearcore's 16 KiB limit.
#[test]
fn inputs_that_escape_large_stay_out_of_the_event() {
    let Some(mut local) = Local::start() else {
        return;
    };
    local.set_test_pricing();
    let input = "\"".repeat(9_000);
    let mut args = request_args();
    args["input_data"] = json!(input);
    let deposit = PAID + 9_000 * 10u128.pow(19);
    let request = local.send("alice", "request_execution", args, deposit, 300);
    local.chain.produce_block();
    let logs = local.logs(&request);
    let event = logs
        .iter()
        .find(|l| l.contains("\"execution_requested\""))
        .expect("the request was accepted and announced");
    assert!(event.len() < 16 * 1024, "{} bytes", event.len());
    assert!(event.contains(r#""input_in_state":true"#), "{event}");
    assert_eq!(
        local.view("get_request_input", json!({"request_id": 0})),
        json!(input)
    );
}
