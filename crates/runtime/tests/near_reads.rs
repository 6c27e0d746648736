//! NEAR reads from inside a program (`near.view`, `near.account` in
//! JavaScript; POSTs to near.invalid from any P2 program): answered by the
//! reader the worker provides, within a budget, billed as instructions.
//! The worker's reader over real RPC is tested end to end in crates/dev.

mod common;

use std::sync::{Arc, Mutex};

use common::{example, run_js, runtime, text};
use outlayer_runtime::{
    ErrorKind, Execution, HttpPolicy, NEAR_READ_INSTRUCTIONS, NearRead, NearReadError, NearReader,
    NearReads, ReadFuture,
};
use serde_json::{Value, json};

/// Answers from a table and records what was asked.
#[derive(Default)]
struct Table {
    asked: Mutex<Vec<NearRead>>,
}

impl NearReader for Table {
    fn read(&self, read: NearRead) -> ReadFuture<'_> {
        self.asked.lock().unwrap().push(read.clone());
        Box::pin(async move {
            match read {
                NearRead::View {
                    contract_id,
                    method_name,
                    args,
                } if contract_id == "app.near" && method_name == "greeting" => {
                    let args: Value = serde_json::from_slice(&args).unwrap();
                    Ok(format!("\"hello, {}\"", args["name"].as_str().unwrap()).into_bytes())
                }
                NearRead::View { method_name, .. } if method_name == "huge" => {
                    Ok(vec![b'x'; 300 * 1024])
                }
                NearRead::Account { account_id } if account_id == "alice.near" => Ok(
                    br#"{"amount":"5000","locked":"0","code_hash":"11111111111111111111111111111111","storage_usage":182}"#
                        .to_vec(),
                ),
                NearRead::Account { account_id } | NearRead::View { contract_id: account_id, .. } => {
                    Err(NearReadError::Refused(format!("account {account_id} does not exist")))
                }
            }
        })
    }
}

fn with_reads(table: &Arc<Table>, max_reads: u32) -> Execution {
    Execution {
        near: Some(NearReads {
            max_reads,
            ..NearReads::new(table.clone())
        }),
        // Reads are not network requests: they work with HTTP off.
        http: HttpPolicy::disabled(),
        ..Execution::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn views_and_accounts_reach_the_reader_and_are_billed() {
    let table = Arc::new(Table::default());
    let outcome = run_js(
        "const greeting = await near.view('app.near', 'greeting', {name: 'bob'});\n\
         const alice = await near.account('alice.near');\n\
         outlayer.output({greeting, amount: alice.amount});",
        with_reads(&table, 4),
    )
    .await;
    assert_eq!(
        text(&outcome),
        r#"{"greeting":"hello, bob","amount":"5000"}"#
    );
    assert_eq!(outcome.metrics.near_reads, 2);
    assert!(outcome.metrics.instructions > 2 * NEAR_READ_INSTRUCTIONS);
    assert_eq!(
        *table.asked.lock().unwrap(),
        vec![
            NearRead::View {
                contract_id: "app.near".into(),
                method_name: "greeting".into(),
                args: br#"{"name":"bob"}"#.to_vec(),
            },
            NearRead::Account {
                account_id: "alice.near".into()
            },
        ]
    );

    // The same script without reads costs exactly the reads' price less.
    let plain = run_js(
        "const greeting = 'hello, bob';\nconst alice = {amount: '5000'};\n\
         outlayer.output({greeting, amount: alice.amount});",
        Execution::default(),
    )
    .await;
    assert!(
        plain.metrics.instructions
            < outcome.metrics.instructions - 2 * NEAR_READ_INSTRUCTIONS + 2_000_000
    );
}

fn error_of(outcome: &outlayer_runtime::Outcome) -> String {
    let error = outcome.error.as_ref().expect("a failure");
    assert_eq!(error.kind, ErrorKind::Exit);
    error.message.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_beyond_the_budget_are_refused() {
    let table = Arc::new(Table::default());
    let outcome = run_js(
        "for (let i = 0; i < 3; i++) await near.account('alice.near');",
        with_reads(&table, 2),
    )
    .await;
    assert_eq!(
        error_of(&outcome),
        "program.js:1:39: Uncaught Error: near/account: the budget of 2 NEAR reads per execution is spent"
    );
    assert_eq!(outcome.metrics.near_reads, 2);
    assert_eq!(
        table.asked.lock().unwrap().len(),
        2,
        "the third never reached the reader"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_caps_and_bad_reads_are_clear_errors() {
    let table = Arc::new(Table::default());
    let missing = run_js(
        "await near.view('nobody.near', 'get');",
        with_reads(&table, 4),
    )
    .await;
    assert_eq!(
        error_of(&missing),
        "program.js:1:11: Uncaught Error: near/view: account nobody.near does not exist"
    );
    let huge = run_js(
        "await near.view('app.near', 'huge');",
        with_reads(&table, 4),
    )
    .await;
    assert_eq!(
        error_of(&huge),
        "program.js:1:11: Uncaught Error: near/view: the answer has 307200 bytes, above the cap of 262144"
    );
    let bad = run_js(
        "await near.view('Not An Account', 'get');",
        with_reads(&table, 4),
    )
    .await;
    assert!(
        error_of(&bad).starts_with(
            "program.js:1:11: Uncaught Error: near/view: invalid account id \"Not An Account\""
        ),
        "{}",
        error_of(&bad)
    );
    let off = run_js("await near.account('alice.near');", Execution::default()).await;
    assert_eq!(
        error_of(&off),
        "program.js:1:11: Uncaught Error: near/account: NEAR reads are off for this execution"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reserved_host_is_never_the_network() {
    // A plain fetch to the reserved host is answered by the sandbox too.
    let table = Arc::new(Table::default());
    let outcome = run_js(
        "const r = await fetch('http://near.invalid/account', {method: 'POST', body: JSON.stringify({account_id: 'alice.near'})});\n\
         outlayer.output({status: r.status, body: await r.json()});",
        with_reads(&table, 1),
    )
    .await;
    let value: Value = serde_json::from_str(text(&outcome)).unwrap();
    assert_eq!(value["status"], json!(200));
    assert_eq!(value["body"]["amount"], json!("5000"));
    let wrong = run_js(
        "const r = await fetch('http://near.invalid/send_tx', {method: 'POST', body: '{}'});\n\
         outlayer.output({status: r.status, body: await r.json()});",
        with_reads(&table, 1),
    )
    .await;
    let value: Value = serde_json::from_str(text(&wrong)).unwrap();
    assert_eq!(
        value,
        json!({"status": 404, "body": {"error": "not_found", "message": "no NEAR read at \"/send_tx\": POST /view or /account"}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rust_program_reads_the_same_way_with_the_sdk() {
    let table = Arc::new(Table::default());
    let input = json!({"contract_id": "app.near", "method_name": "greeting", "args": {"name": "bob"}, "account_id": "alice.near"});
    let rust = runtime()
        .execute(
            example("near-view"),
            Execution {
                input: input.to_string().into_bytes(),
                ..with_reads(&table, 4)
            },
        )
        .await;
    let javascript = run_js(
        "const {contract_id, method_name, args, account_id} = outlayer.inputJson();\n\
         const view = await near.view(contract_id, method_name, args);\n\
         const account = await near.account(account_id);\n\
         outlayer.output({view, amount: account.amount});",
        Execution {
            input: input.to_string().into_bytes(),
            ..with_reads(&table, 4)
        },
    )
    .await;
    assert_eq!(text(&rust), r#"{"amount":"5000","view":"hello, bob"}"#);
    let (rust_value, js_value): (Value, Value) = (
        serde_json::from_str(text(&rust)).unwrap(),
        serde_json::from_str(text(&javascript)).unwrap(),
    );
    assert_eq!(rust_value, js_value);
    assert_eq!(rust.metrics.near_reads, 2);

    // Over budget: the SDK reports the sandbox's refusal.
    let refused = runtime()
        .execute(
            example("near-view"),
            Execution {
                input: input.to_string().into_bytes(),
                ..with_reads(&table, 1)
            },
        )
        .await;
    assert_eq!(
        refused.stderr,
        "near-view: near_read_budget (429): the budget of 1 NEAR reads per execution is spent\n"
    );
}
