//! `on_execution_response`: exact charges, refunds, events and return
//! values for success, failure and timeout.

use near_sdk::PromiseError;
use near_sdk::serde_json::json;
use outlayer_types::{ExecutionOutput, ResponseFormat};

use super::*;
use crate::settlement::TIMEOUT_ERROR;

fn completed(
    request_id: u64,
    success: bool,
    error: &str,
    used: &str,
    charged: u128,
    refunded: u128,
) -> String {
    format!(
        r#"EVENT_JSON:{{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{{"request_id":{request_id},"success":{success},"error":{error},"resources_used":{used},"charged":"{charged}","refunded":"{refunded}"}}]}}"#
    )
}

#[test]
fn success_charges_what_was_used_and_refunds_the_rest() {
    let mut contract = setup();
    let paid = SMALL_ESTIMATE + 1_000_000;
    request(&mut contract, paid);
    let response = ExecutionResponse {
        output: Some(ExecutionOutput::Text("42".into())),
        ..success(300_000, 250, Some(4_000))
    };
    let returned = respond(&mut contract, 0, &response);
    assert_eq!(returned, Some(json!("42")));
    // 1000 base + 300000·10/1e6 (= 3) + 250·2 + 4000·1
    let charged = 1_000 + 3 + 500 + 4_000;
    assert_eq!(transfers(), vec![("alice.near".to_owned(), paid - charged)]);
    assert_eq!(
        logs(),
        vec![completed(
            0,
            true,
            "null",
            r#"{"instructions":300000,"time_ms":250,"compile_time_ms":4000}"#,
            charged,
            paid - charged
        )]
    );
    let stats = contract.get_stats();
    assert_eq!((stats.succeeded, stats.pending_requests), (1, 0));
    assert_eq!(stats.total_charged, U128(charged));
    assert_eq!(stats.total_refunded, U128(paid - charged));
    assert_eq!(contract.get_request(0), None);
}

#[test]
fn usage_beyond_the_limits_is_not_billed() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE + 7);
    // Far above 1M instructions, 1 s and the 120 s build timeout.
    respond(
        &mut contract,
        0,
        &success(u64::MAX, u64::MAX, Some(u64::MAX)),
    );
    assert_eq!(transfers(), vec![("alice.near".to_owned(), 7)]);
    assert_eq!(contract.get_stats().total_charged, U128(SMALL_ESTIMATE));
}

#[test]
fn outputs_return_in_their_format() {
    let mut contract = setup_alice_operates();
    for (format, output, expected) in [
        (
            ResponseFormat::Json,
            ExecutionOutput::Json(json!({"answer": [4, 2]})),
            json!({"answer": [4, 2]}),
        ),
        (
            ResponseFormat::Bytes,
            ExecutionOutput::Bytes(vec![0, 1, 255]),
            json!("AAH/"),
        ),
        (
            ResponseFormat::Text,
            ExecutionOutput::Text("héllo".into()),
            json!("héllo"),
        ),
    ] {
        call("alice.near", SMALL_ESTIMATE);
        let id = contract.get_stats().total_requests;
        contract
            .request_execution(
                github(),
                Some(small_limits()),
                None,
                None,
                Some(format),
                None,
            )
            .detach();
        let response = ExecutionResponse {
            output: Some(output.clone()),
            ..success(1, 1, None)
        };
        contract.resolve_execution(id, response.clone());
        assert_eq!(respond(&mut contract, id, &response), Some(expected));
    }
    // A success without output returns null.
    request(&mut contract, SMALL_ESTIMATE);
    assert_eq!(
        respond(&mut contract, 3, &success(1, 1, None)),
        Some(Value::Null)
    );
}

#[test]
fn failure_charges_the_base_fee() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    let response = ExecutionResponse {
        success: false,
        output: None,
        error: Some("fuel_exhausted".into()),
        resources_used: ResourceMetrics {
            instructions: 1_000_000,
            time_ms: 3,
            compile_time_ms: None,
        },
    };
    assert_eq!(respond(&mut contract, 0, &response), None);
    let refunded = SMALL_ESTIMATE - 1_000;
    assert_eq!(transfers(), vec![("alice.near".to_owned(), refunded)]);
    assert_eq!(
        logs(),
        vec![completed(
            0,
            false,
            r#""fuel_exhausted""#,
            r#"{"instructions":1000000,"time_ms":3,"compile_time_ms":null}"#,
            1_000,
            refunded
        )]
    );
    // Without a message the event still says it failed.
    request(&mut contract, SMALL_ESTIMATE);
    let bare = ExecutionResponse {
        error: None,
        ..response
    };
    respond(&mut contract, 1, &bare);
    assert!(logs()[0].contains(r#""error":"execution failed""#));
    assert_eq!(contract.get_stats().failed, 2);
}

#[test]
fn a_failed_resolve_drops_any_submitted_output() {
    let mut contract = setup_alice_operates();
    request(&mut contract, SMALL_ESTIMATE);
    contract.submit_execution_output(0, ExecutionOutput::Text("partial".into()));
    let failure = ExecutionResponse {
        success: false,
        output: Some(ExecutionOutput::Text("partial".into())),
        error: Some("timeout".into()),
        resources_used: ResourceMetrics::default(),
    };
    contract.resolve_execution(0, failure);
    assert!(!contract.get_request(0).unwrap().output_submitted);
}

#[test]
fn timeout_refunds_like_a_failure() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    callback(PromiseResult::Failed, BLOCK + 200);
    assert_eq!(
        contract.on_execution_response(0, Err(PromiseError::Failed)),
        None
    );
    let refunded = SMALL_ESTIMATE - 1_000;
    assert_eq!(transfers(), vec![("alice.near".to_owned(), refunded)]);
    assert_eq!(
        logs(),
        vec![completed(
            0,
            false,
            &format!("\"{TIMEOUT_ERROR}\""),
            r#"{"instructions":0,"time_ms":0,"compile_time_ms":null}"#,
            1_000,
            refunded
        )]
    );
    assert_eq!(contract.get_stats().timed_out, 1);
    assert_eq!(contract.get_request(0), None);
}

#[test]
fn the_refund_goes_to_the_payer() {
    let mut contract = setup();
    call("app.alice.near", SMALL_ESTIMATE);
    contract
        .request_execution(
            github(),
            Some(small_limits()),
            None,
            None,
            None,
            Some(account("bob.near")),
        )
        .detach();
    respond(&mut contract, 0, &success(0, 0, None));
    assert_eq!(
        transfers(),
        vec![("bob.near".to_owned(), SMALL_ESTIMATE - 1_000)]
    );
}

#[test]
fn nothing_to_refund_means_no_transfer() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    respond(&mut contract, 0, &success(1_000_000, 1_000, Some(120_000)));
    assert!(transfers().is_empty());
    assert_eq!(contract.get_stats().total_charged, U128(SMALL_ESTIMATE));
}

#[test]
fn requests_keep_the_prices_they_were_made_at() {
    let mut contract = setup();
    request(&mut contract, SMALL_ESTIMATE);
    call("owner.near", 1);
    contract.set_pricing(Pricing {
        base_fee: U128(100_000),
        ..round_pricing()
    });
    respond(&mut contract, 0, &success(0, 0, None));
    assert_eq!(
        transfers(),
        vec![("alice.near".to_owned(), SMALL_ESTIMATE - 1_000)]
    );
}
