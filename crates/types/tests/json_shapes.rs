//! The JSON shapes below are public API: contracts, workers, the dashboard and
//! users' scripts depend on them. A failing test here means a breaking change.

use outlayer_types::*;
use serde_json::{Value, json};

fn roundtrip<T>(value: &T, expected: Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let encoded = serde_json::to_value(value).unwrap();
    assert_eq!(encoded, expected);
    let decoded: T = serde_json::from_value(expected).unwrap();
    assert_eq!(&decoded, value);
}

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

#[test]
fn code_source_is_externally_tagged() {
    roundtrip(
        &CodeSource::GitHub {
            repo: "github.com/alice/app".into(),
            commit: "0123abcd".into(),
            build_target: BuildTarget::Wasip1,
        },
        json!({"GitHub": {"repo": "github.com/alice/app", "commit": "0123abcd", "build_target": "wasm32-wasip1"}}),
    );
    roundtrip(
        &CodeSource::WasmUrl {
            url: "https://example.com/a.wasm".into(),
            hash: "ab".repeat(32),
            build_target: BuildTarget::Wasip2,
        },
        json!({"WasmUrl": {"url": "https://example.com/a.wasm", "hash": "ab".repeat(32), "build_target": "wasm32-wasip2"}}),
    );
    roundtrip(
        &CodeSource::GitPackage {
            repo: "github.com/alice/tools".into(),
            commit: "0123abcd".into(),
            path: "examples/echo".into(),
            build_target: BuildTarget::Wasip1,
        },
        json!({"GitPackage": {"repo": "github.com/alice/tools", "commit": "0123abcd", "path": "examples/echo", "build_target": "wasm32-wasip1"}}),
    );
    roundtrip(
        &CodeSource::JavaScript {
            code: "outlayer.output(1)".into(),
        },
        json!({"JavaScript": {"code": "outlayer.output(1)"}}),
    );
    roundtrip(
        &CodeSource::GitScript {
            repo: "github.com/alice/tools".into(),
            commit: "main".into(),
            path: "js/hello.js".into(),
        },
        json!({"GitScript": {"repo": "github.com/alice/tools", "commit": "main", "path": "js/hello.js"}}),
    );
}

#[test]
fn scripts_in_repositories_validate_and_key_like_packages() {
    let script = |path: &str| CodeSource::GitScript {
        repo: "github.com/alice/tools".into(),
        commit: "main".into(),
        path: path.into(),
    };
    assert!(script("js/hello.js").validate().is_ok());
    assert!(script("hello.mjs").validate().is_ok());
    assert_eq!(
        script("src/main.rs").validate().unwrap_err().to_string(),
        "path must name a .js or .mjs file"
    );
    assert!(script("../x.js").validate().is_err());
    assert!(!script("a.js").needs_build());
    assert_ne!(
        script("a.js").artifact_checksum(),
        script("b.js").artifact_checksum()
    );
    // Secrets as for the repository: the branch first, then the repository.
    assert_eq!(script("a.js").secrets_accessors().len(), 2);
    assert_eq!(
        script("a.js").with_commit(&"0f".repeat(20)).commit(),
        Some("0f".repeat(20).as_str())
    );
}

#[test]
fn inline_javascript_is_keyed_by_its_code() {
    let source = CodeSource::JavaScript {
        code: "outlayer.output(1)".into(),
    };
    // SHA-256 of the code's UTF-8 bytes, as `sha256sum` prints it.
    let expected = "8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037".to_owned();
    assert_eq!(source.artifact_checksum(), expected);
    assert_eq!(
        source.secrets_accessors(),
        vec![Accessor::WasmHash { hash: expected }]
    );
    assert!(!source.needs_build());
    assert_eq!(source.inline_code_bytes(), 18);
    assert_eq!(source.repo(), None);
    assert_eq!(
        CodeSource::JavaScript { code: "\t ".into() }
            .validate()
            .unwrap_err()
            .to_string(),
        "code must not be empty"
    );
    let largest = CodeSource::JavaScript {
        code: "a".repeat(outlayer_types::limits::MAX_INLINE_SCRIPT_BYTES - 2),
    };
    assert!(largest.validate().is_ok());
    let quoted = CodeSource::JavaScript {
        code: "\"".repeat(2048),
    };
    assert_eq!(
        quoted.validate().unwrap_err().to_string(),
        "code takes 4098 bytes as a JSON string, above the cap 4096; put larger scripts in a repository"
    );
}

#[test]
fn package_sources_validate_their_path_and_key_on_it() {
    let package = |path: &str| CodeSource::GitPackage {
        repo: "alice/tools".into(),
        commit: "0123abcd".into(),
        path: path.into(),
        build_target: BuildTarget::Wasip1,
    };
    assert!(package("examples/echo").validate().is_ok());
    for bad in ["", "/etc", "a/../b", "a//b", "a b", "./a", &"a".repeat(256)] {
        let err = package(bad).validate().unwrap_err();
        assert!(
            err.0.starts_with("path must be a relative path"),
            "{bad:?}: {err}"
        );
    }
    assert_ne!(
        package("examples/echo").artifact_checksum(),
        package("examples/random").artifact_checksum()
    );
    assert!(package("examples/echo").needs_build());
    let pinned = package("x").with_commit(&"a".repeat(40));
    assert_eq!(pinned.commit(), Some("a".repeat(40).as_str()));
}

#[test]
fn secrets_accessors_prefer_the_branch() {
    let at = |commit: &str| CodeSource::GitHub {
        repo: "alice/app".into(),
        commit: commit.into(),
        build_target: BuildTarget::Wasip1,
    };
    let repo = |branch: Option<&str>| Accessor::Repo {
        repo: "alice/app".into(),
        branch: branch.map(str::to_owned),
    };
    assert_eq!(
        at("main").secrets_accessors(),
        vec![repo(Some("main")), repo(None)]
    );
    assert_eq!(at(&"0f".repeat(20)).secrets_accessors(), vec![repo(None)]);
    assert!(is_commit_hash(&"0f".repeat(32)));
    assert!(!is_commit_hash(&"0g".repeat(20)));
}

#[test]
fn resource_limits_fill_defaults_and_refuse_unknown_fields() {
    roundtrip(
        &ResourceLimits::default(),
        json!({"max_instructions": 1_000_000_000u64, "max_memory_mb": 128, "max_execution_seconds": 60}),
    );
    let partial: ResourceLimits = serde_json::from_value(json!({"max_memory_mb": 64})).unwrap();
    assert_eq!(
        partial,
        ResourceLimits {
            max_memory_mb: 64,
            ..ResourceLimits::default()
        }
    );
    let err = serde_json::from_value::<ResourceLimits>(json!({"max_memory": 64})).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `max_memory`"),
        "{err}"
    );
}

#[test]
fn response_format_and_output() {
    roundtrip(&ResponseFormat::Json, json!("Json"));
    assert_eq!(ResponseFormat::default(), ResponseFormat::Text);
    roundtrip(&ExecutionOutput::Text("hi".into()), json!({"Text": "hi"}));
    roundtrip(
        &ExecutionOutput::Json(json!({"a": [1, 2]})),
        json!({"Json": {"a": [1, 2]}}),
    );
    roundtrip(
        &ExecutionOutput::Bytes(vec![0, 1, 255]),
        json!({"Bytes": "AAH/"}),
    );
    let err =
        serde_json::from_value::<ExecutionOutput>(json!({"Bytes": "not base64!"})).unwrap_err();
    assert!(err.to_string().contains("invalid base64"), "{err}");
}

#[test]
fn execution_response() {
    roundtrip(
        &ExecutionResponse {
            success: true,
            output: Some(ExecutionOutput::Text("42".into())),
            error: None,
            resources_used: ResourceMetrics {
                instructions: 1234,
                time_ms: 5,
                compile_time_ms: Some(900),
            },
        },
        json!({
            "success": true,
            "output": {"Text": "42"},
            "error": null,
            "resources_used": {"instructions": 1234, "time_ms": 5, "compile_time_ms": 900}
        }),
    );
    // Older workers omit optional fields.
    let minimal: ExecutionResponse = serde_json::from_value(json!({
        "success": false, "error": "fuel_exhausted",
        "resources_used": {"instructions": 10, "time_ms": 1}
    }))
    .unwrap();
    assert_eq!(minimal.output, None);
    assert_eq!(minimal.resources_used.compile_time_ms, None);
}

#[test]
fn execution_context() {
    roundtrip(
        &ExecutionContext {
            request_id: 7,
            sender_id: account("alice.near"),
            predecessor_id: account("app.alice.near"),
            contract_id: account("outlayer.near"),
            block_height: 100,
            block_timestamp: 1_700_000_000_000_000_000,
            transaction_hash: Some("9xQ".into()),
            random_seed: [0xab; 32],
        },
        json!({
            "request_id": 7,
            "sender_id": "alice.near",
            "predecessor_id": "app.alice.near",
            "contract_id": "outlayer.near",
            "block_height": 100,
            "block_timestamp": 1_700_000_000_000_000_000u64,
            "transaction_hash": "9xQ",
            "random_seed": "ab".repeat(32),
        }),
    );
}

#[test]
fn secrets_types() {
    roundtrip(
        &SecretsRef {
            profile: "default".into(),
            account_id: account("alice.near"),
        },
        json!({"profile": "default", "account_id": "alice.near"}),
    );
    roundtrip(
        &Accessor::Repo {
            repo: "github.com/alice/app".into(),
            branch: Some("main".into()),
        },
        json!({"Repo": {"repo": "github.com/alice/app", "branch": "main"}}),
    );
    roundtrip(
        &Accessor::WasmHash {
            hash: "00".repeat(32),
        },
        json!({"WasmHash": {"hash": "00".repeat(32)}}),
    );
    roundtrip(
        &AccessCondition::Logic {
            operator: LogicOperator::And,
            conditions: vec![
                AccessCondition::AllowAll,
                AccessCondition::Not {
                    condition: Box::new(AccessCondition::Whitelist {
                        accounts: vec![account("bob.near")],
                    }),
                },
                AccessCondition::NearBalance {
                    operator: ComparisonOperator::Gte,
                    value: U128(10u128.pow(24)),
                },
                AccessCondition::FtBalance {
                    contract: account("usdc.near"),
                    operator: ComparisonOperator::Gt,
                    value: U128(5),
                },
                AccessCondition::NftOwned {
                    contract: account("nft.near"),
                    token_id: None,
                },
                AccessCondition::AccountPattern {
                    pattern: r".*\.alice\.near".into(),
                },
            ],
        },
        json!({"Logic": {"operator": "And", "conditions": [
            "AllowAll",
            {"Not": {"condition": {"Whitelist": {"accounts": ["bob.near"]}}}},
            {"NearBalance": {"operator": "Gte", "value": "1000000000000000000000000"}},
            {"FtBalance": {"contract": "usdc.near", "operator": "Gt", "value": "5"}},
            {"NftOwned": {"contract": "nft.near", "token_id": null}},
            {"AccountPattern": {"pattern": ".*\\.alice\\.near"}},
        ]}}),
    );
}

#[test]
fn u128_is_a_decimal_string() {
    roundtrip(&U128(u128::MAX), json!(u128::MAX.to_string()));
    assert!(serde_json::from_value::<U128>(json!(5)).is_err());
    assert!(serde_json::from_value::<U128>(json!("-1")).is_err());
}

#[test]
fn borsh_variant_order_is_frozen() {
    // The contract keeps these in state: reordering variants corrupts it.
    let tag = |v: &dyn Fn() -> Vec<u8>| v()[0];
    assert_eq!(tag(&|| borsh::to_vec(&BuildTarget::Wasip1).unwrap()), 0);
    assert_eq!(tag(&|| borsh::to_vec(&BuildTarget::Wasip2).unwrap()), 1);
    assert_eq!(tag(&|| borsh::to_vec(&ResponseFormat::Bytes).unwrap()), 2);
    assert_eq!(
        tag(&|| borsh::to_vec(&Accessor::WasmHash {
            hash: String::new()
        })
        .unwrap()),
        1
    );
    assert_eq!(tag(&|| borsh::to_vec(&ComparisonOperator::Ne).unwrap()), 5);
    assert_eq!(tag(&|| borsh::to_vec(&LogicOperator::Or).unwrap()), 1);
    let not = AccessCondition::Not {
        condition: Box::new(AccessCondition::AllowAll),
    };
    assert_eq!(borsh::to_vec(&not).unwrap(), vec![7, 0]);
    let wasm_url = CodeSource::WasmUrl {
        url: String::new(),
        hash: String::new(),
        build_target: BuildTarget::Wasip2,
    };
    assert_eq!(tag(&|| borsh::to_vec(&wasm_url).unwrap()), 1);
    let package = CodeSource::GitPackage {
        repo: String::new(),
        commit: String::new(),
        path: String::new(),
        build_target: BuildTarget::Wasip1,
    };
    assert_eq!(tag(&|| borsh::to_vec(&package).unwrap()), 2);
    let script = CodeSource::JavaScript {
        code: String::new(),
    };
    assert_eq!(tag(&|| borsh::to_vec(&script).unwrap()), 3);
    let file = CodeSource::GitScript {
        repo: String::new(),
        commit: String::new(),
        path: String::new(),
    };
    assert_eq!(tag(&|| borsh::to_vec(&file).unwrap()), 4);
}

#[test]
fn events_are_nep297_log_lines() {
    let completed = OutlayerEvent::ExecutionCompleted(vec![ExecutionCompleted {
        request_id: 3,
        success: false,
        error: Some("timeout".into()),
        resources_used: ResourceMetrics::default(),
        charged: U128(10),
        refunded: U128(90),
    }]);
    let line = completed.to_log_line();
    assert_eq!(
        line,
        r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{"request_id":3,"success":false,"error":"timeout","resources_used":{"instructions":0,"time_ms":0,"compile_time_ms":null},"charged":"10","refunded":"90"}]}"#
    );
    assert_eq!(
        OutlayerEvent::from_log_line(&line).unwrap().unwrap(),
        completed
    );
    let kept = OutlayerEvent::RefundFailed(vec![outlayer_types::RefundFailed {
        account_id: "ghost.near".parse().unwrap(),
        amount: U128(90),
        redirected_to: Some("alice.near".parse().unwrap()),
    }]);
    let line = kept.to_log_line();
    assert_eq!(
        line,
        r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"refund_failed","data":[{"account_id":"ghost.near","amount":"90","redirected_to":"alice.near"}]}"#
    );
    assert_eq!(OutlayerEvent::from_log_line(&line).unwrap().unwrap(), kept);
    assert!(OutlayerEvent::from_log_line("plain log").is_none());
    assert!(
        OutlayerEvent::from_log_line(
            r#"EVENT_JSON:{"standard":"nep141","version":"1.0.0","event":"ft_transfer","data":[]}"#
        )
        .is_none()
    );
    assert!(
        OutlayerEvent::from_log_line(
            r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"nope","data":[]}"#
        )
        .unwrap()
        .is_err()
    );
}

#[test]
fn execution_request_event_data() {
    let request = ExecutionRequest {
        context: ExecutionContext {
            request_id: 1,
            sender_id: account("alice.near"),
            predecessor_id: account("alice.near"),
            contract_id: account("outlayer.near"),
            block_height: 9,
            block_timestamp: 1,
            transaction_hash: None,
            random_seed: [1; 32],
        },
        code_source: CodeSource::GitHub {
            repo: "github.com/a/b".into(),
            commit: "main".into(),
            build_target: BuildTarget::Wasip1,
        },
        resource_limits: ResourceLimits::default(),
        input_data: Some("{}".into()),
        input_in_state: false,
        secrets_ref: None,
        response_format: ResponseFormat::Json,
        payment: U128(5),
        payer_account_id: account("alice.near"),
        max_compile_seconds: None,
    };
    let value = serde_json::to_value(&request).unwrap();
    assert_eq!(value["context"]["request_id"], 1);
    assert_eq!(value["payment"], "5");
    assert_eq!(value["response_format"], "Json");
    assert_eq!(value["input_data"], "{}");
    assert_eq!(
        serde_json::from_value::<ExecutionRequest>(value).unwrap(),
        request
    );
}

#[test]
fn keystore_api_shapes() {
    let accessor = Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: None,
    };
    roundtrip(
        &PubkeyRequest {
            accessor: accessor.clone(),
            owner: account("alice.near"),
            secrets: None,
        },
        json!({"accessor": {"Repo": {"repo": "github.com/alice/app", "branch": null}}, "owner": "alice.near"}),
    );
    roundtrip(
        &DecryptRequest {
            request_id: 7,
            attestation: Attestation::none(),
        },
        json!({"request_id": 7, "attestation": {"type": "none"}}),
    );
    // Who asks and for which secrets come from the request on chain: a body
    // that tries to say more is refused.
    for extra in ["caller", "owner", "profile", "accessor"] {
        let mut body = json!({"request_id": 7, "attestation": {"type": "none"}});
        body[extra] = json!("bob.near");
        let err = serde_json::from_value::<DecryptRequest>(body).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{extra}: {err}");
    }
    roundtrip(
        &DecryptResponse {
            secrets: [("API_KEY".to_owned(), "v".to_owned())].into(),
        },
        json!({"secrets": {"API_KEY": "v"}}),
    );
    roundtrip(
        &KeystoreErrorBody {
            error: "access_denied".into(),
            message: "denied".into(),
            condition: Some("Whitelist".into()),
        },
        json!({"error": "access_denied", "message": "denied", "condition": "Whitelist"}),
    );
    roundtrip(
        &StoreSecretsArgs {
            accessor,
            profile: "default".into(),
            encrypted_secrets_base64: "AQ==".into(),
            access: AccessCondition::AllowAll,
        },
        json!({"accessor": {"Repo": {"repo": "github.com/alice/app", "branch": null}},
               "profile": "default", "encrypted_secrets_base64": "AQ==", "access": "AllowAll"}),
    );
}

#[test]
fn decrypt_response_debug_hides_values() {
    let response = DecryptResponse {
        secrets: [("API_KEY".to_owned(), "sk-very-secret".to_owned())].into(),
    };
    let shown = format!("{response:?}");
    assert!(
        shown.contains("API_KEY") && !shown.contains("sk-very-secret"),
        "{shown}"
    );
}

#[test]
fn request_summary_carries_the_settlement_beside_the_status() {
    use outlayer_types::coordinator::{RequestStatus, RequestSummary};
    let summary = RequestSummary {
        request_id: 9,
        status: RequestStatus::Completed,
        sender_id: account("alice.near"),
        payer_account_id: account("alice.near"),
        code_source: CodeSource::GitScript {
            repo: "github.com/a/b".into(),
            commit: "main".into(),
            path: "examples/js/hello.js".into(),
        },
        artifact_checksum: "c".into(),
        resource_limits: ResourceLimits::default(),
        max_compile_seconds: None,
        response_format: ResponseFormat::Json,
        secrets_ref: None,
        payment: U128(100),
        block_height: 50,
        block_timestamp: 1_700_000_000_000_000_000,
        transaction_hash: None,
        error_category: None,
        error: None,
        metrics: None,
        actual_cost: Some(U128(40)),
        created_at_ms: 1_700_000_000_100,
        updated_at_ms: 1_700_000_002_000,
        settled_success: Some(true),
        settled_at_ms: Some(1_700_000_001_900),
    };
    let limits = serde_json::to_value(ResourceLimits::default()).unwrap();
    roundtrip(
        &summary,
        json!({
            "request_id": 9,
            "status": "completed",
            "sender_id": "alice.near",
            "payer_account_id": "alice.near",
            "code_source": {"GitScript": {"repo": "github.com/a/b", "commit": "main", "path": "examples/js/hello.js"}},
            "artifact_checksum": "c",
            "resource_limits": limits,
            "max_compile_seconds": null,
            "response_format": "Json",
            "secrets_ref": null,
            "payment": "100",
            "block_height": 50,
            "block_timestamp": 1_700_000_000_000_000_000_u64,
            "transaction_hash": null,
            "error_category": null,
            "error": null,
            "metrics": null,
            "actual_cost": "40",
            "created_at_ms": 1_700_000_000_100_u64,
            "updated_at_ms": 1_700_000_002_000_u64,
            "settled_success": true,
            "settled_at_ms": 1_700_000_001_900_u64
        }),
    );
    // Coordinators before the settlement fields omit them: not settled.
    let mut older = serde_json::to_value(&summary).unwrap();
    let map = older.as_object_mut().unwrap();
    map.remove("settled_success");
    map.remove("settled_at_ms");
    let parsed: RequestSummary = serde_json::from_value(older).unwrap();
    assert_eq!((parsed.settled_success, parsed.settled_at_ms), (None, None));
    // And an unsettled one writes both as null.
    let unsettled = RequestSummary {
        settled_success: None,
        settled_at_ms: None,
        ..summary
    };
    let written = serde_json::to_value(&unsettled).unwrap();
    assert_eq!(
        (&written["settled_success"], &written["settled_at_ms"]),
        (&Value::Null, &Value::Null)
    );
    assert!(written.as_object().unwrap().contains_key("settled_at_ms"));
}

#[test]
fn coordinator_batch_shapes() {
    use outlayer_types::coordinator::*;
    let completion = CompleteJob {
        lease_token: "t-7".into(),
        success: true,
        error_category: None,
        error: None,
        output_summary: None,
        metrics: None,
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    };
    roundtrip(
        &CompleteJobs {
            completions: vec![JobCompletion {
                job_id: 7,
                completion,
            }],
        },
        json!({"completions": [{"job_id": 7, "completion": {
            "lease_token": "t-7", "success": true, "error_category": null, "error": null,
            "output_summary": null, "metrics": null, "actual_cost": null}}]}),
    );
    roundtrip(
        &JobsCompleted {
            results: vec![
                CompletionResult {
                    job_id: 7,
                    status: 200,
                    completed: Some(JobCompleted {
                        state: JobState::Completed,
                        next_job: None,
                    }),
                    error: None,
                },
                CompletionResult {
                    job_id: 8,
                    status: 409,
                    completed: None,
                    error: Some(ApiError {
                        error: "conflict".into(),
                        message: "job 8 is not held under this lease".into(),
                    }),
                },
            ],
        },
        json!({"results": [
            {"job_id": 7, "status": 200, "completed": {"state": "completed", "next_job": null}, "error": null},
            {"job_id": 8, "status": 409, "completed": null,
             "error": {"error": "conflict", "message": "job 8 is not held under this lease"}}]}),
    );
    roundtrip(
        &ExecutionsCreated {
            results: vec![
                CreationResult {
                    request_id: 3,
                    status: 201,
                    created: Some(CreateExecutionResponse {
                        request_id: 3,
                        created: true,
                        status: RequestStatus::Executing,
                        first_job: JobType::Execute,
                        artifact_checksum: "ab".into(),
                    }),
                    error: None,
                },
                CreationResult {
                    request_id: 4,
                    status: 400,
                    created: None,
                    error: Some(ApiError {
                        error: "bad_request".into(),
                        message: "m".into(),
                    }),
                },
            ],
        },
        json!({"results": [
            {"request_id": 3, "status": 201, "created": {"request_id": 3, "created": true,
             "status": "executing", "first_job": "execute", "artifact_checksum": "ab"}, "error": null},
            {"request_id": 4, "status": 400, "created": null,
             "error": {"error": "bad_request", "message": "m"}}]}),
    );
    // Older or newer clients: the batch bodies refuse fields nobody knows.
    for body in [
        json!({"completions": [], "extra": 1}),
        json!({"completions": [{"job_id": 1, "completion": {"lease_token": "t", "success": true}, "x": 1}]}),
    ] {
        let err = serde_json::from_value::<CompleteJobs>(body).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
    let err =
        serde_json::from_value::<CreateExecutions>(json!({"requests": [], "x": 1})).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    assert_eq!((MAX_COMPLETE_BATCH, MAX_CREATE_BATCH), (64, 64));
}
