//! Inline JavaScript end to end on `outlayer dev`'s stack: paid, run on the
//! worker's QuickJS engine, settled with its output, charge and refund;
//! secrets bound to the code's hash; script errors settled with their
//! position.

mod common;

use std::path::PathBuf;

use common::{Harness, assert_money};
use outlayer_dev::request::NewRequest;
use outlayer_types::{
    AccessCondition, Accessor, CodeSource, Pricing, ResourceLimits, ResponseFormat, SecretsRef,
};
use serde_json::json;

fn build_engine() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = std::process::Command::new(root.join("scripts/build-js-engine"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("scripts/build-js-engine runs");
    assert!(status.success(), "scripts/build-js-engine failed");
}

fn script(code: &str, input: &str, secrets: Option<SecretsRef>) -> NewRequest {
    NewRequest {
        code_source: CodeSource::JavaScript { code: code.into() },
        limits: ResourceLimits::default(),
        input: input.into(),
        secrets_ref: secrets,
        response_format: ResponseFormat::Json,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_javascript_settles_with_its_output_charge_and_refund() {
    build_engine();
    let h = Harness::start(&[]).await;
    let pricing = Pricing::default();

    // 1. A script with input, deterministic randomness and the block time.
    let code = "const n = outlayer.inputJson().n;\n\
                outlayer.output({square: n * n, random: Math.random() < 1, year: new Date().getUTCFullYear() > 2000});";
    let before = h.balance("alice.test.near").await;
    let settled = h
        .pay("alice.test.near", &script(code, r#"{"n": 12}"#, None))
        .await;
    assert_eq!(
        settled.value,
        Some(json!({"square": 144, "random": true, "year": true})),
        "{settled:?}"
    );
    let completed = settled.completed.clone().unwrap();
    assert!(completed.success);
    let used = completed.resources_used;
    assert!(
        used.instructions > 1_000_000,
        "the engine's instructions are counted: {used:?}"
    );
    assert_eq!(used.compile_time_ms, None, "nothing is built for a script");
    let expected = pricing.settle_success(&ResourceLimits::default(), 120, &used, settled.deposit);
    assert_eq!(
        assert_money(&h, "alice.test.near", before, &settled).await,
        expected.charged
    );
    let job = h.executed_once(settled.request_id.unwrap()).await;
    assert_eq!(job.metrics.unwrap().instructions, used.instructions);

    // 2. Secrets bound to the code's SHA-256 reach `process.env`.
    let code = "outlayer.output({key: process.env.API_KEY ?? null});";
    let source = CodeSource::JavaScript { code: code.into() };
    let accessor = Accessor::WasmHash {
        hash: source.artifact_checksum(),
    };
    let alice = h.signer("alice.test.near");
    outlayer_dev::demo::store_secrets(
        &h.stack,
        &h.rpc,
        &alice,
        &h.stack.contract(),
        &accessor,
        "js",
        br#"{"API_KEY": "js-secret-42"}"#,
        AccessCondition::AllowAll,
    )
    .await
    .unwrap();
    let secrets = Some(SecretsRef {
        profile: "js".into(),
        account_id: alice.account_id.clone(),
    });
    let settled = h
        .pay("alice.test.near", &script(code, "", secrets.clone()))
        .await;
    assert_eq!(
        settled.value,
        Some(json!({"key": "js-secret-42"})),
        "{settled:?}"
    );
    // Other code (one byte more) is another program: no access.
    let other = h
        .pay("alice.test.near", &script(&format!("{code} "), "", secrets))
        .await;
    let error = other.completed.unwrap().error.unwrap();
    assert!(error.starts_with("access_denied: "), "{error}");

    // 3. An error in the script: settled as a failure with its position.
    let before = h.balance("alice.test.near").await;
    let failed = h
        .pay(
            "alice.test.near",
            &script("const x = 1;\nthrow new Error('boom');", "", None),
        )
        .await;
    let completed = failed.completed.clone().unwrap();
    assert!(!completed.success);
    assert_eq!(
        completed.error.as_deref(),
        Some("exit: program.js:2:11: Uncaught Error: boom")
    );
    assert_money(&h, "alice.test.near", before, &failed).await;

    // 4. NEAR reads from the script: the contract's view and an account, as
    //    the chain answers them directly; each read billed as instructions.
    let contract = h.stack.contract();
    let code = format!(
        "const config = await near.view('{contract}', 'get_config');\n\
         const bob = await near.account('bob.test.near');\n\
         outlayer.output({{config, bob: bob.amount}});"
    );
    let settled = h.pay("alice.test.near", &script(&code, "", None)).await;
    let config: serde_json::Value = h
        .rpc
        .view_call(&contract, "get_config", &json!({}), &Default::default())
        .await
        .unwrap();
    let bob = h.balance("bob.test.near").await.to_string();
    assert_eq!(
        settled.value,
        Some(json!({"config": config, "bob": bob})),
        "{settled:?}"
    );
    let used = settled.completed.unwrap().resources_used;
    assert!(
        used.instructions > 2 * outlayer_runtime::NEAR_READ_INSTRUCTIONS,
        "{used:?}"
    );

    // 5. A JavaScript file in a repository at a commit: read from git, run
    //    like inline code; a missing file is the caller's error.
    let file = |path: &str| NewRequest {
        code_source: CodeSource::GitScript {
            repo: h.repo.clone(),
            commit: h.commit.clone(),
            path: path.into(),
        },
        ..script("-", "NEAR", None)
    };
    let before = h.balance("alice.test.near").await;
    let settled = h
        .pay("alice.test.near", &file("examples/js/hello.js"))
        .await;
    let value = settled.value.clone().expect("an output");
    assert_eq!(value["greeting"], json!("Hello, NEAR!"), "{settled:?}");
    let used = settled.completed.clone().unwrap().resources_used;
    assert_eq!(used.compile_time_ms, None);
    assert_money(&h, "alice.test.near", before, &settled).await;
    let missing = h.pay("alice.test.near", &file("examples/js/nope.js")).await;
    assert_eq!(
        missing.completed.unwrap().error.as_deref(),
        Some(
            "compilation_failed: invalid source: no file \"examples/js/nope.js\" in the repository"
        )
    );
}
