//! Near-view: reads a view and an account through the worker (no socket of
//! its own). Input: `{"contract_id", "method_name", "args", "account_id"}`;
//! output: `{"view": <the view's JSON result>, "amount": <the account's
//! balance>}`. A refused read goes to stderr and the program exits with 1.

use outlayer_sdk::near;
use serde_json::{Value, json};

fn main() {
    let input: Value = outlayer_sdk::input_json().unwrap_or_else(|e| fail(&format!("input: {e}")));
    let text = |key: &str| {
        input[key]
            .as_str()
            .unwrap_or_else(|| fail(&format!("{key} missing")))
    };
    let view: Value = near::view_json(text("contract_id"), text("method_name"), &input["args"])
        .unwrap_or_else(|e| fail(&e.to_string()));
    let account = near::account(text("account_id")).unwrap_or_else(|e| fail(&e.to_string()));
    outlayer_sdk::output_json(&json!({"view": view, "amount": account.amount}));
}

fn fail(message: &str) -> ! {
    eprintln!("near-view: {message}");
    std::process::exit(1);
}
