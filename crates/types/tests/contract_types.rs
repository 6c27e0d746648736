//! The types added for the contract: prices and caps (JSON shapes pinned),
//! validation of what the contract refuses up front, and output conversion.

use outlayer_types::*;
use serde_json::json;

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

#[test]
fn pricing_and_caps_json() {
    let pricing = Pricing::default();
    assert_eq!(
        serde_json::to_value(pricing).unwrap(),
        json!({
            "base_fee": "1000000000000000000000",
            "per_million_instructions": "1000000000000000000",
            "per_execution_ms": "100000000000000000",
            "per_compile_ms": "100000000000000000"
        })
    );
    let err = serde_json::from_value::<Pricing>(json!({"base_fee": "1"})).unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
    assert_eq!(
        serde_json::to_value(MaxLimits::default()).unwrap(),
        json!({
            "max_instructions": 10_000_000_000u64,
            "max_memory_mb": 512,
            "max_execution_seconds": 60,
            "max_compile_seconds": 120,
            "max_input_bytes": 65536,
            "max_output_bytes": 65536
        })
    );
    // Kept in contract state: field order is the Borsh layout.
    let bytes = borsh::to_vec(&Pricing {
        base_fee: U128(1),
        per_million_instructions: U128(2),
        per_execution_ms: U128(3),
        per_compile_ms: U128(4),
    })
    .unwrap();
    assert_eq!(
        (bytes.len(), bytes[0], bytes[16], bytes[32], bytes[48]),
        (64, 1, 2, 3, 4)
    );
}

#[test]
fn profile_names() {
    for good in ["a", "default", "prod-2", "A_b", &"x".repeat(64)] {
        assert_eq!(check_profile_name(good), Ok(()), "{good}");
    }
    for bad in ["", "a b", "a.b", "é", &"x".repeat(65)] {
        assert!(check_profile_name(bad).is_err(), "{bad:?}");
    }
}

fn nest(depth: usize) -> AccessCondition {
    let mut condition = AccessCondition::AllowAll;
    for _ in 1..depth {
        condition = AccessCondition::Not {
            condition: Box::new(condition),
        };
    }
    condition
}

#[test]
fn access_conditions_are_bounded() {
    assert_eq!(nest(8).validate(), Ok(()));
    assert_eq!(
        nest(9).validate().unwrap_err().0,
        "access condition nested deeper than 8"
    );
    let many = AccessCondition::Logic {
        operator: LogicOperator::Or,
        conditions: vec![AccessCondition::AllowAll; 64],
    };
    assert_eq!(
        many.validate().unwrap_err().0,
        "access condition has more than 64 conditions"
    );
    let accounts: Vec<AccountId> = (0..129).map(|i| account(&format!("a{i}.near"))).collect();
    let two_lists = AccessCondition::Logic {
        operator: LogicOperator::And,
        conditions: vec![
            AccessCondition::Whitelist {
                accounts: accounts.clone(),
            },
            AccessCondition::Whitelist { accounts },
        ],
    };
    assert_eq!(
        two_lists.validate().unwrap_err().0,
        "access condition lists more than 256 accounts"
    );
    let cases = [
        (
            AccessCondition::Whitelist { accounts: vec![] },
            "Whitelist needs at least one account",
        ),
        (
            AccessCondition::Logic {
                operator: LogicOperator::And,
                conditions: vec![],
            },
            "Logic needs at least one condition",
        ),
        (
            AccessCondition::AccountPattern {
                pattern: String::new(),
            },
            "AccountPattern pattern must be 1-256 bytes",
        ),
        (
            AccessCondition::NftOwned {
                contract: account("nft.near"),
                token_id: Some("t".repeat(257)),
            },
            "NftOwned token_id must be 1-256 bytes",
        ),
    ];
    for (condition, message) in cases {
        assert_eq!(condition.validate().unwrap_err().0, message);
    }
    let fine = AccessCondition::Logic {
        operator: LogicOperator::Or,
        conditions: vec![
            AccessCondition::NearBalance {
                operator: ComparisonOperator::Gte,
                value: U128(1),
            },
            AccessCondition::NftOwned {
                contract: account("nft.near"),
                token_id: None,
            },
            AccessCondition::AccountPattern {
                pattern: r".*\.near".into(),
            },
        ],
    };
    assert_eq!(fine.validate(), Ok(()));
}

#[test]
fn code_sources_are_checked() {
    let github = |repo: &str, commit: &str| CodeSource::GitHub {
        repo: repo.into(),
        commit: commit.into(),
        build_target: BuildTarget::Wasip1,
    };
    let url = |url: &str, hash: &str| CodeSource::WasmUrl {
        url: url.into(),
        hash: hash.into(),
        build_target: BuildTarget::Wasip2,
    };
    let hash = "ab".repeat(32);
    assert_eq!(
        github("https://github.com/a/b", "0123abc").validate(),
        Ok(())
    );
    assert_eq!(url("https://x.io/a.wasm", &hash).validate(), Ok(()));
    assert_eq!(
        url("http://127.0.0.1:8080/a.wasm", &hash).validate(),
        Ok(())
    );
    let refused = [
        github("b", "main"),
        github("a/b", ""),
        github("a/b", "ma in"),
        github("a/b", &"c".repeat(256)),
        url("ftp://x.io/a.wasm", &hash),
        url("https://x.io/a b.wasm", &hash),
        url("https://x.io/a.wasm", "abc"),
    ];
    for source in refused {
        assert!(source.validate().is_err(), "{source:?}");
    }
}

#[test]
fn outputs_become_the_callers_value() {
    assert_eq!(ExecutionOutput::Text("hi".into()).into_json(), json!("hi"));
    assert_eq!(
        ExecutionOutput::Json(json!({"a": 1})).into_json(),
        json!({"a": 1})
    );
    assert_eq!(
        ExecutionOutput::Bytes(vec![0, 1, 255]).into_json(),
        json!("AAH/")
    );
    assert_eq!(
        ExecutionOutput::Bytes(vec![]).format(),
        ResponseFormat::Bytes
    );
}

#[test]
fn contract_views_json() {
    let stats = ContractStats {
        total_charged: U128(5),
        ..ContractStats::default()
    };
    assert_eq!(
        serde_json::to_value(&stats).unwrap(),
        json!({
            "total_requests": 0, "pending_requests": 0, "succeeded": 0, "failed": 0,
            "timed_out": 0, "cancelled": 0, "total_charged": "5", "total_refunded": "0",
            "fees_withdrawn": "0", "unclaimed_refunds": "0"
        })
    );
    let summary = SecretsSummary {
        accessor: Accessor::WasmHash {
            hash: "00".repeat(32),
        },
        profile: "p".into(),
        owner: account("alice.near"),
        access: AccessCondition::AllowAll,
        storage_deposit: U128(7),
        created_at: 1,
        updated_at: 2,
    };
    assert_eq!(
        serde_json::to_value(&summary).unwrap(),
        json!({
            "accessor": {"WasmHash": {"hash": "00".repeat(32)}},
            "profile": "p", "owner": "alice.near", "access": "AllowAll",
            "storage_deposit": "7", "created_at": 1, "updated_at": 2
        })
    );
}
