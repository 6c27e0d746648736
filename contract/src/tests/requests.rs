//! `request_execution`, `resolve_execution`, `submit_execution_output` and
//! the cancels: what they store, emit and refuse.

use near_sdk::Gas;
use near_sdk::serde_json::{self, json};
use outlayer_types::{
    CodeSource, ExecutionOutput, ExecutionResponse, ResourceLimits, ResourceMetrics,
    ResponseFormat, SecretsRef,
};

use super::*;
use crate::settlement::{OWNER_CANCEL_ERROR, STALE_ERROR};

#[test]
fn request_stores_yields_and_emits_everything_a_worker_needs() {
    let mut contract = setup();
    // The 2 bytes of input are stored until settlement: their storage is paid too.
    let paid = SMALL_ESTIMATE + 2 * BYTE;
    assert_eq!(
        contract.estimate_execution_cost(Some(small_limits()), Some(2)),
        U128(paid)
    );
    call("alice.near", paid);
    contract
        .request_execution(
            github(),
            Some(small_limits()),
            Some("{}".into()),
            None,
            None,
            None,
        )
        .detach();
    let seed = "07".repeat(32);
    assert_eq!(
        logs(),
        vec![format!(
            r#"EVENT_JSON:{{"standard":"near-outlayer","version":"1.0.0","event":"execution_requested","data":[{{"context":{{"request_id":0,"sender_id":"alice.near","predecessor_id":"alice.near","contract_id":"outlayer.near","block_height":100,"block_timestamp":1700000000000000100,"transaction_hash":null,"random_seed":"{seed}"}},"code_source":{{"GitHub":{{"repo":"github.com/alice/app","commit":"main","build_target":"wasm32-wasip1"}}}},"resource_limits":{{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":1}},"input_data":"{{}}","input_in_state":false,"secrets_ref":null,"response_format":"Text","payment":"{paid}","payer_account_id":"alice.near","max_compile_seconds":120}}]}}"#
        )]
    );
    let stored = contract.requests.get(&0).unwrap();
    assert_ne!(
        near_sdk::borsh::to_vec(&stored.yield_id).unwrap(),
        vec![0; 32],
        "the yield's id is kept to resume it"
    );
    let view = contract.get_request(0).unwrap();
    assert!(!view.resolved && !view.output_submitted);
    assert_eq!(view.request.payment.0, paid);
    assert_eq!(view.request.input_data.as_deref(), Some("{}"));
    assert_eq!(contract.get_stats().pending_requests, 1);
    assert_eq!(contract.get_stats().total_requests, 1);
    assert_eq!(contract.get_request_input(0), None);
}

#[test]
fn request_with_every_option() {
    let mut contract = setup();
    call("app.alice.near", NEAR);
    contract
        .request_execution(
            CodeSource::WasmUrl {
                url: "https://example.com/a.wasm".into(),
                hash: "ab".repeat(32),
                build_target: BuildTarget::Wasip2,
            },
            None,
            None,
            Some(SecretsRef {
                profile: "prod".into(),
                account_id: account("alice.near"),
            }),
            Some(ResponseFormat::Json),
            Some(account("bob.near")),
        )
        .detach();
    let request = contract.get_request(0).unwrap().request;
    assert_eq!(request.resource_limits, ResourceLimits::default());
    assert_eq!(request.response_format, ResponseFormat::Json);
    assert_eq!(request.payer_account_id.as_str(), "bob.near");
    assert_eq!(request.context.predecessor_id.as_str(), "app.alice.near");
    assert_eq!(request.input_data, None);
    assert_eq!(request.payment.0, NEAR);
    let event =
        serde_json::from_str::<Value>(logs()[0].strip_prefix("EVENT_JSON:").unwrap()).unwrap();
    assert_eq!(
        event["data"][0]["secrets_ref"],
        json!({"profile": "prod", "account_id": "alice.near"})
    );
}

#[test]
fn large_inputs_stay_in_state() {
    let mut contract = setup();
    let large = "x".repeat(10 * 1024);
    call("alice.near", SMALL_ESTIMATE + 10 * 1024 * BYTE);
    contract
        .request_execution(
            github(),
            Some(small_limits()),
            Some(large.clone()),
            None,
            None,
            None,
        )
        .detach();
    let event =
        serde_json::from_str::<Value>(logs()[0].strip_prefix("EVENT_JSON:").unwrap()).unwrap();
    assert_eq!(event["data"][0]["input_data"], Value::Null);
    assert_eq!(event["data"][0]["input_in_state"], true);
    assert_eq!(contract.get_request_input(0), Some(large));

    // One byte less in the event (10 KiB with its quotes) still travels in it.
    call("alice.near", SMALL_ESTIMATE + (10 * 1024 - 3) * BYTE);
    let small = "x".repeat(10 * 1024 - 3);
    contract
        .request_execution(
            github(),
            Some(small_limits()),
            Some(small.clone()),
            None,
            None,
            None,
        )
        .detach();
    let view = contract.get_request(1).unwrap().request;
    assert_eq!((view.input_data, view.input_in_state), (Some(small), false));
    assert_eq!(contract.get_request_input(1), None);

    // Settlement drops the stored input and refunds its storage.
    respond(&mut contract, 0, &success(0, 0, None));
    assert_eq!(contract.get_request_input(0), None);
    assert_eq!(
        transfers(),
        vec![(
            "alice.near".to_owned(),
            SMALL_ESTIMATE + 10 * 1024 * BYTE - 1_000
        )]
    );
}

#[test]
fn inline_javascript_is_stored_with_the_request_and_paid_like_input() {
    let mut contract = setup();
    let code = "outlayer.output(\"hi\");".to_owned();
    let source = CodeSource::JavaScript { code: code.clone() };
    let needed = SMALL_ESTIMATE + (code.len() as u128 + 2) * BYTE;
    call_with("alice.near", needed - 1, Gas::from_tgas(300), BLOCK);
    assert_eq!(
        refused(|| {
            contract
                .request_execution(
                    source.clone(),
                    Some(small_limits()),
                    Some("ab".into()),
                    None,
                    None,
                    None,
                )
                .detach();
        }),
        format!(
            "attached deposit {} yoctoNEAR is below {needed} (cost estimate 123010 + input storage {}); missing 1",
            needed - 1,
            (code.len() as u128 + 2) * BYTE
        )
    );
    call_with("alice.near", needed, Gas::from_tgas(300), BLOCK);
    contract
        .request_execution(
            source.clone(),
            Some(small_limits()),
            Some("ab".into()),
            None,
            None,
            None,
        )
        .detach();
    let stored = contract.get_request(0).expect("stored");
    assert_eq!(stored.request.code_source, source);
    let event = get_logs().pop().expect("the execution_requested event");
    assert!(
        event.contains(r#"{"JavaScript":{"code":"outlayer.output(\"hi\");"}}"#),
        "{event}"
    );
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let mut contract = setup();
    let before = contract.get_stats();
    let mut attempt = |deposit: u128,
                       gas: u64,
                       source: CodeSource,
                       limits: Option<ResourceLimits>,
                       input: Option<String>,
                       secrets: Option<SecretsRef>| {
        call_with("alice.near", deposit, Gas::from_tgas(gas), BLOCK);
        refused(|| {
            contract
                .request_execution(source, limits, input, secrets, None, None)
                .detach();
        })
    };
    assert_eq!(
        attempt(
            SMALL_ESTIMATE,
            99,
            github(),
            Some(small_limits()),
            None,
            None
        ),
        "attach at least 100 Tgas (got 99 Tgas)"
    );
    assert_eq!(
        attempt(
            SMALL_ESTIMATE - 1,
            300,
            github(),
            Some(small_limits()),
            None,
            None
        ),
        "attached deposit 123009 yoctoNEAR is below 123010 (cost estimate 123010 + input storage 0); missing 1"
    );
    assert_eq!(
        attempt(
            SMALL_ESTIMATE + 3 * BYTE - 1,
            300,
            github(),
            Some(small_limits()),
            Some("abc".into()),
            None
        ),
        format!(
            "attached deposit {} yoctoNEAR is below {} (cost estimate 123010 + input storage {}); missing 1",
            SMALL_ESTIMATE + 3 * BYTE - 1,
            SMALL_ESTIMATE + 3 * BYTE,
            3 * BYTE
        )
    );
    let too_many = ResourceLimits {
        max_instructions: 10_000_000_001,
        ..small_limits()
    };
    assert_eq!(
        attempt(NEAR, 300, github(), Some(too_many), None, None),
        "invalid resource_limits: max_instructions 10000000001 is above the cap 10000000000"
    );
    let zero = ResourceLimits {
        max_execution_seconds: 0,
        ..small_limits()
    };
    assert_eq!(
        attempt(NEAR, 300, github(), Some(zero), None, None),
        "invalid resource_limits: max_execution_seconds must be at least 1"
    );
    let bad_repo = CodeSource::GitHub {
        repo: "app".into(),
        commit: "main".into(),
        build_target: BuildTarget::Wasip1,
    };
    assert_eq!(
        attempt(NEAR, 300, bad_repo, None, None, None),
        r#"invalid code_source: repository "app" is not of the form host/owner/name"#
    );
    let bad_hash = CodeSource::WasmUrl {
        url: "https://example.com/a.wasm".into(),
        hash: "abc".into(),
        build_target: BuildTarget::Wasip1,
    };
    assert_eq!(
        attempt(NEAR, 300, bad_hash, None, None, None),
        "invalid code_source: hash must be 64 hex digits (SHA-256)"
    );
    let empty_script = CodeSource::JavaScript { code: " \n".into() };
    assert_eq!(
        attempt(NEAR, 300, empty_script, None, None, None),
        "invalid code_source: code must not be empty"
    );
    // Measured as the event carries it: 700 newlines take 2 bytes each.
    let script = CodeSource::JavaScript {
        code: format!("{}{}", "\n".repeat(700), "x".repeat(2_695)),
    };
    assert_eq!(
        attempt(NEAR, 300, script, None, None, None),
        "invalid code_source: code takes 4097 bytes as a JSON string, above the cap 4096; put larger scripts in a repository"
    );
    assert_eq!(
        attempt(NEAR, 300, github(), None, Some("x".repeat(65_537)), None),
        "input_data is 65537 bytes, above the cap 65536"
    );
    let bad_profile = SecretsRef {
        profile: "a b".into(),
        account_id: account("alice.near"),
    };
    assert_eq!(
        attempt(NEAR, 300, github(), None, None, Some(bad_profile)),
        r#"invalid secrets_ref: profile name "a b" must be 1-64 characters of [A-Za-z0-9_-]"#
    );
    call("owner.near", 1);
    contract.set_paused(true);
    call("alice.near", NEAR);
    assert_eq!(
        refused(|| {
            contract
                .request_execution(github(), None, None, None, None, None)
                .detach();
        }),
        "contract is paused: new requests are refused"
    );
    assert_eq!(contract.get_stats(), before);
    assert!(contract.get_pending_requests(None, None).is_empty());
}

#[test]
fn resolve_resumes_the_yield_once() {
    let mut contract = setup_alice_operates();
    request(&mut contract, SMALL_ESTIMATE);
    let response = ExecutionResponse {
        output: Some(ExecutionOutput::Text("42".into())),
        ..success(10, 1, None)
    };
    // Same context: the mock still knows the yield.
    contract.resolve_execution(0, response.clone());
    assert!(contract.get_request(0).unwrap().resolved);
    // The mock would resume again; the contract refuses.
    assert_eq!(
        refused(|| contract.resolve_execution(0, response.clone())),
        "request 0 is already resolved"
    );
    assert_eq!(
        refused(|| contract.submit_execution_output(0, ExecutionOutput::Text("x".into()))),
        "request 0 is already resolved"
    );
    assert_eq!(
        refused(|| contract.resolve_execution(9, response.clone())),
        "request 9 is not pending (unknown or already settled)"
    );
    assert_eq!(
        respond(&mut contract, 0, &response),
        Some(Value::String("42".into()))
    );
}

#[test]
fn a_timed_out_yield_cannot_be_resolved() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    // A new context has no yield to resume: as after a timeout.
    call("operator.near", 0);
    assert_eq!(
        refused(|| contract.resolve_execution(0, success(1, 1, None))),
        "request 0 can no longer be resumed: its yield timed out"
    );
    assert!(!contract.get_request(0).unwrap().resolved);
}

#[test]
fn the_resume_payload_is_the_response() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    let request = contract.pending_request(0);
    let response = ExecutionResponse {
        output: Some(ExecutionOutput::Text("42".into())),
        ..success(10, 1, Some(2))
    };
    let payload = contract.resume_payload(0, &request, response.clone());
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        r#"{"success":true,"output":{"Text":"42"},"error":null,"resources_used":{"instructions":10,"time_ms":1,"compile_time_ms":2}}"#
    );
}

#[test]
fn bad_resolves_are_refused() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    call("alice.near", 0);
    assert_eq!(
        refused(|| contract.resolve_execution(0, success(1, 1, None))),
        "only the operator can do this"
    );
    assert_eq!(
        refused(|| contract.submit_execution_output(0, ExecutionOutput::Text("x".into()))),
        "only the operator can do this"
    );
    call("operator.near", 0);
    let wrong_format = ExecutionResponse {
        output: Some(ExecutionOutput::Json(json!({"a": 1}))),
        ..success(1, 1, None)
    };
    assert_eq!(
        refused(|| contract.resolve_execution(0, wrong_format)),
        "output is Json but request 0 asked for Text"
    );
    let long_error = ExecutionResponse {
        success: false,
        output: None,
        error: Some("e".repeat(257)),
        resources_used: ResourceMetrics::default(),
    };
    assert_eq!(
        refused(|| contract.resolve_execution(0, long_error)),
        "error is 257 bytes, at most 256"
    );
    // {"Text":"..."} adds 11 bytes of JSON to the 65,526 characters.
    let too_large = ExecutionOutput::Text("x".repeat(65_526));
    assert_eq!(
        refused(|| contract.submit_execution_output(0, too_large)),
        "output is 65537 bytes, above the cap 65536"
    );
    assert!(!contract.get_request(0).unwrap().resolved);
    assert!(!contract.get_request(0).unwrap().output_submitted);
}

#[test]
fn large_outputs_arrive_through_state() {
    let mut contract = setup_alice_operates();
    let big = "y".repeat(60_000);

    // Two calls: submit, then resolve without an output.
    request(&mut contract, SMALL_ESTIMATE);
    contract.submit_execution_output(0, ExecutionOutput::Text(big.clone()));
    assert!(contract.get_request(0).unwrap().output_submitted);
    contract.resolve_execution(0, success(5, 5, None));
    let returned = respond(&mut contract, 0, &success(5, 5, None));
    assert_eq!(returned, Some(Value::String(big.clone())));
    assert!(!contract.outputs.contains_key(&0), "settlement drops it");

    // One call: resolve moves the output to state and resumes without it.
    request(&mut contract, SMALL_ESTIMATE);
    let response = ExecutionResponse {
        output: Some(ExecutionOutput::Text(big.clone())),
        ..success(5, 5, None)
    };
    let payload = contract.resume_payload(1, &contract.pending_request(1), response.clone());
    assert!(payload.len() <= crate::MAX_YIELD_PAYLOAD_BYTES);
    let resumed: ExecutionResponse = serde_json::from_slice(&payload).unwrap();
    assert_eq!(resumed.output, None);
    contract.resolve_execution(1, response);
    assert!(contract.get_request(1).unwrap().output_submitted);
    let returned = respond(&mut contract, 1, &resumed);
    assert_eq!(returned, Some(Value::String(big)));
    assert_eq!(contract.get_stats().pending_requests, 0);
}

#[test]
fn stale_requests_can_be_cancelled_by_their_caller_after_the_window() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE + 500);
    call_with("bob.near", 0, Gas::from_tgas(30), BLOCK + 300);
    assert_eq!(
        refused(|| contract.cancel_stale_execution(0)),
        "only alice.near can cancel request 0"
    );
    call_with("alice.near", 0, Gas::from_tgas(30), BLOCK + 299);
    assert_eq!(
        refused(|| contract.cancel_stale_execution(0)),
        "request 0 can be cancelled from block 400 (now 399)"
    );
    call_with("alice.near", 0, Gas::from_tgas(30), BLOCK + 300);
    contract.cancel_stale_execution(0);
    // Charged like a failure: the base fee.
    let refund = SMALL_ESTIMATE + 500 - 1_000;
    assert_eq!(transfers(), vec![("alice.near".to_owned(), refund)]);
    assert_eq!(
        logs(),
        vec![format!(
            r#"EVENT_JSON:{{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{{"request_id":0,"success":false,"error":"{STALE_ERROR}","resources_used":{{"instructions":0,"time_ms":0,"compile_time_ms":null}},"charged":"1000","refunded":"{refund}"}}]}}"#
        )]
    );
    assert_eq!(
        refused(|| contract.cancel_stale_execution(0)),
        "request 0 is not pending (unknown or already settled)"
    );
    call("operator.near", 0);
    assert_eq!(
        refused(|| contract.resolve_execution(0, success(1, 1, None))),
        "request 0 is not pending (unknown or already settled)"
    );
}

#[test]
fn emergency_cancel_refunds_everything_and_the_late_callback_is_a_no_op() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    call("operator.near", 1);
    assert_eq!(
        refused(|| contract.emergency_cancel_execution(0)),
        "only the owner can do this"
    );
    call("owner.near", 0);
    assert_eq!(
        refused(|| contract.emergency_cancel_execution(0)),
        "Requires attached deposit of exactly 1 yoctoNEAR"
    );
    call("owner.near", 1);
    contract.emergency_cancel_execution(0);
    assert_eq!(transfers(), vec![("alice.near".to_owned(), SMALL_ESTIMATE)]);
    assert_eq!(
        logs(),
        vec![format!(
            r#"EVENT_JSON:{{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{{"request_id":0,"success":false,"error":"{OWNER_CANCEL_ERROR}","resources_used":{{"instructions":0,"time_ms":0,"compile_time_ms":null}},"charged":"0","refunded":"{SMALL_ESTIMATE}"}}]}}"#
        )]
    );
    // The yield still times out later; its callback finds nothing to settle.
    callback(PromiseResult::Failed, BLOCK + 200);
    assert_eq!(
        contract.on_execution_response(0, Err(near_sdk::PromiseError::Failed)),
        None
    );
    assert!(transfers().is_empty());
    assert_eq!(logs(), vec!["request 0 was already settled".to_owned()]);
    assert_eq!(contract.get_stats().cancelled, 1);
    assert_eq!(contract.get_stats().total_refunded, U128(SMALL_ESTIMATE));
}

#[test]
fn pending_requests_page() {
    let mut contract = setup();
    for _ in 0..5 {
        request(&mut contract, SMALL_ESTIMATE);
    }
    let ids = |from: Option<u32>, limit: Option<u32>| -> Vec<u64> {
        contract
            .get_pending_requests(from, limit)
            .iter()
            .map(|v| v.request.context.request_id)
            .collect()
    };
    assert_eq!(ids(None, None), vec![0, 1, 2, 3, 4]);
    assert_eq!(ids(Some(1), Some(2)), vec![1, 2]);
    assert_eq!(ids(Some(4), Some(10)), vec![4]);
    assert_eq!(ids(Some(5), None), Vec::<u64>::new());
    respond(&mut contract, 1, &success(0, 0, None));
    // The last entry moves into the freed slot.
    assert_eq!(
        contract
            .get_pending_requests(None, None)
            .iter()
            .map(|v| v.request.context.request_id)
            .collect::<Vec<_>>(),
        vec![0, 4, 2, 3]
    );
    assert_eq!(contract.get_request(1), None);
}
