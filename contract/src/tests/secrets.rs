//! Secrets: storage deposits to the yoctoNEAR, normalised keys, the
//! per-account index, and every refusal.

use near_sdk::serde_json::{self, json};
use outlayer_types::{AccessCondition, Accessor};

use super::*;
use crate::secrets::{MAX_PROFILES_PER_ACCOUNT, MAX_SECRETS_BASE64_BYTES};

fn repo(spelling: &str) -> Accessor {
    Accessor::Repo {
        repo: spelling.into(),
        branch: None,
    }
}

fn estimate(
    contract: &Contract,
    owner: &str,
    accessor: &Accessor,
    profile: &str,
    blob: &str,
    access: &AccessCondition,
) -> u128 {
    contract
        .estimate_storage_cost(
            account(owner),
            accessor.clone(),
            profile.into(),
            blob.into(),
            access.clone(),
        )
        .0
}

/// Stores in a fresh context; returns the bytes the call added to state,
/// measured (the mock counts storage from zero in each context).
fn store(
    contract: &mut Contract,
    owner: &str,
    deposit: u128,
    accessor: &Accessor,
    profile: &str,
    blob: &str,
    access: &AccessCondition,
) -> i64 {
    call(owner, deposit);
    let before = near_sdk::env::storage_usage();
    contract.store_secrets(
        accessor.clone(),
        profile.into(),
        blob.into(),
        access.clone(),
    );
    flush(contract);
    near_sdk::env::storage_usage() as i64 - before as i64
}

#[test]
fn storing_takes_exactly_the_storage_it_adds_and_refunds_the_rest() {
    let mut contract = setup();
    let accessor = repo("https://github.com/Alice/App.git");
    let cost = estimate(
        &contract,
        "alice.near",
        &accessor,
        "default",
        "c2VjcmV0",
        &AccessCondition::AllowAll,
    );
    assert_eq!(cost % BYTE, 0);
    let added = store(
        &mut contract,
        "alice.near",
        cost + 5,
        &accessor,
        "default",
        "c2VjcmV0",
        &AccessCondition::AllowAll,
    );
    assert_eq!(
        cost,
        added as u128 * BYTE,
        "the estimate is the measured storage"
    );
    assert_eq!(transfers(), vec![("alice.near".to_owned(), 5)]);

    // Any spelling of the repository finds the record, in its normal form.
    let record = contract
        .get_secrets(repo("alice/app"), "default".into(), account("alice.near"))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&record).unwrap(),
        json!({
            "accessor": {"Repo": {"repo": "github.com/alice/app", "branch": null}},
            "profile": "default",
            "owner": "alice.near",
            "encrypted_secrets_base64": "c2VjcmV0",
            "access": "AllowAll",
            "storage_deposit": cost.to_string(),
            "created_at": 1_700_000_000_000_000_100u64,
            "updated_at": 1_700_000_000_000_000_100u64
        })
    );
    assert_eq!(
        contract.get_secrets(repo("alice/app"), "default".into(), account("bob.near")),
        None,
        "another owner's profile is another record"
    );

    // A second profile reuses the index: only its own bytes.
    let second = estimate(
        &contract,
        "alice.near",
        &accessor,
        "prod",
        "c2VjcmV0",
        &AccessCondition::AllowAll,
    );
    assert!(second < cost);
    let added = store(
        &mut contract,
        "alice.near",
        second,
        &accessor,
        "prod",
        "c2VjcmV0",
        &AccessCondition::AllowAll,
    );
    assert_eq!(second, added as u128 * BYTE);
    assert!(transfers().is_empty());
}

#[test]
fn too_small_a_deposit_is_refused_with_the_missing_amount() {
    let mut contract = setup();
    let accessor = repo("alice/app");
    let cost = estimate(
        &contract,
        "alice.near",
        &accessor,
        "default",
        "c2VjcmV0",
        &AccessCondition::AllowAll,
    );
    let bytes = cost / BYTE;
    call("alice.near", cost - 1);
    assert_eq!(
        refused(|| contract.store_secrets(
            accessor.clone(),
            "default".into(),
            "c2VjcmV0".into(),
            AccessCondition::AllowAll
        )),
        format!("attach at least {cost} yoctoNEAR to store {bytes} bytes (missing 1)")
    );
}

#[test]
fn updates_settle_the_difference() {
    let mut contract = setup();
    let accessor = repo("alice/app");
    let allow = AccessCondition::AllowAll;
    let first = estimate(&contract, "alice.near", &accessor, "p", "c2VjcmV0", &allow);
    store(
        &mut contract,
        "alice.near",
        first,
        &accessor,
        "p",
        "c2VjcmV0",
        &allow,
    );

    // 8 more base64 bytes: 8 more bytes of storage.
    let bigger = "c2VjcmV0c2VjcmV0";
    let grown = estimate(&contract, "alice.near", &accessor, "p", bigger, &allow);
    assert_eq!(grown, first + 8 * BYTE);
    call("alice.near", 8 * BYTE - 1);
    assert_eq!(
        refused(|| contract.store_secrets(
            accessor.clone(),
            "p".into(),
            bigger.into(),
            allow.clone()
        )),
        format!(
            "attach at least {} yoctoNEAR to store {} bytes (missing 1)",
            8 * BYTE,
            grown / BYTE
        )
    );
    assert_eq!(
        store(
            &mut contract,
            "alice.near",
            8 * BYTE + 3,
            &accessor,
            "p",
            bigger,
            &allow
        ),
        8
    );
    assert_eq!(transfers(), vec![("alice.near".to_owned(), 3)]);
    let record = contract
        .get_secrets(accessor.clone(), "p".into(), account("alice.near"))
        .unwrap();
    assert_eq!(record.storage_deposit, U128(grown));

    // Shrinking back refunds the 8 bytes (and the 1 yoctoNEAR).
    assert_eq!(
        store(
            &mut contract,
            "alice.near",
            1,
            &accessor,
            "p",
            "c2VjcmV0",
            &allow
        ),
        -8
    );
    assert_eq!(transfers(), vec![("alice.near".to_owned(), 8 * BYTE + 1)]);
    let record = contract
        .get_secrets(accessor.clone(), "p".into(), account("alice.near"))
        .unwrap();
    assert_eq!(record.storage_deposit, U128(first));
    assert_eq!(record.created_at, 1_700_000_000_000_000_100);

    // update_access: a longer condition costs its bytes.
    let whitelist = AccessCondition::Whitelist {
        accounts: vec![account("bob.near")],
    };
    let with_whitelist = estimate(
        &contract,
        "alice.near",
        &accessor,
        "p",
        "c2VjcmV0",
        &whitelist,
    );
    call("alice.near", with_whitelist - first);
    let before = near_sdk::env::storage_usage();
    contract.update_access(accessor.clone(), "p".into(), whitelist.clone());
    flush(&mut contract);
    assert_eq!(
        u128::from(near_sdk::env::storage_usage() - before) * BYTE,
        with_whitelist - first
    );
    assert!(transfers().is_empty());
    let record = contract
        .get_secrets(accessor.clone(), "p".into(), account("alice.near"))
        .unwrap();
    assert_eq!(
        (record.access, record.storage_deposit),
        (whitelist, U128(with_whitelist))
    );
    assert_eq!(record.encrypted_secrets_base64, "c2VjcmV0");
}

#[test]
fn delete_refunds_the_deposit_and_leaves_no_state() {
    let mut contract = setup();
    let accessor = Accessor::WasmHash {
        hash: "AB".repeat(32),
    };
    let allow = AccessCondition::AllowAll;
    let cost = estimate(&contract, "alice.near", &accessor, "p", "c2VjcmV0", &allow);
    let added = store(
        &mut contract,
        "alice.near",
        cost,
        &accessor,
        "p",
        "c2VjcmV0",
        &allow,
    );
    assert_eq!(added as u128 * BYTE, cost);

    call("alice.near", 0);
    assert_eq!(
        refused(|| contract.delete_secrets(accessor.clone(), "p".into())),
        "Requires attached deposit of exactly 1 yoctoNEAR"
    );
    call("bob.near", 1);
    assert_eq!(
        refused(|| contract.delete_secrets(accessor.clone(), "p".into())),
        r#"no secrets profile "p" of bob.near for this accessor"#
    );
    call("alice.near", 1);
    let usage_before = near_sdk::env::storage_usage();
    contract.delete_secrets(accessor.clone(), "p".into());
    assert_eq!(transfers(), vec![("alice.near".to_owned(), cost + 1)]);
    flush(&mut contract);
    let freed = usage_before - near_sdk::env::storage_usage();
    assert_eq!(u128::from(freed) * BYTE, cost, "no bytes left behind");
    assert_eq!(
        contract.get_secrets(accessor, "p".into(), account("alice.near")),
        None
    );
    assert!(
        contract
            .list_user_secrets(account("alice.near"), None, None)
            .is_empty()
    );
}

#[test]
fn list_pages_through_an_accounts_profiles() {
    let mut contract = setup();
    let allow = AccessCondition::AllowAll;
    for name in ["a", "b", "c", "d"] {
        store(
            &mut contract,
            "alice.near",
            NEAR,
            &repo("alice/app"),
            name,
            "c2VjcmV0",
            &allow,
        );
    }
    store(
        &mut contract,
        "bob.near",
        NEAR,
        &repo("alice/app"),
        "a",
        "c2VjcmV0",
        &allow,
    );
    let names = |contract: &Contract, from, limit| -> Vec<String> {
        contract
            .list_user_secrets(account("alice.near"), from, limit)
            .into_iter()
            .map(|s| s.profile)
            .collect()
    };
    assert_eq!(names(&contract, None, None), ["a", "b", "c", "d"]);
    assert_eq!(names(&contract, Some(1), Some(2)), ["b", "c"]);
    assert_eq!(names(&contract, Some(9), None), Vec::<String>::new());
    call("alice.near", 1);
    contract.delete_secrets(repo("alice/app"), "b".into());
    assert_eq!(names(&contract, None, None), ["a", "c", "d"]);
    let summary = &contract.list_user_secrets(account("bob.near"), None, None)[0];
    assert_eq!(
        serde_json::to_value(summary).unwrap()["accessor"],
        json!({"Repo": {"repo": "github.com/alice/app", "branch": null}})
    );
}

#[test]
fn bad_secrets_are_refused() {
    let mut contract = setup();
    let allow = AccessCondition::AllowAll;
    call("alice.near", NEAR);
    let mut attempt = |accessor: Accessor, profile: &str, blob: String, access: AccessCondition| {
        refused(|| contract.store_secrets(accessor, profile.into(), blob, access))
    };
    assert_eq!(
        attempt(repo("app"), "p", "c2VjcmV0".into(), allow.clone()),
        r#"invalid accessor: repository "app" is not of the form host/owner/name"#
    );
    assert_eq!(
        attempt(
            Accessor::WasmHash { hash: "xyz".into() },
            "p",
            "c2VjcmV0".into(),
            allow.clone()
        ),
        "invalid accessor: wasm hash must be 64 hex digits (SHA-256)"
    );
    assert_eq!(
        attempt(repo("alice/app"), "", "c2VjcmV0".into(), allow.clone()),
        r#"profile name "" must be 1-64 characters of [A-Za-z0-9_-]"#
    );
    assert_eq!(
        attempt(
            repo("alice/app"),
            &"p".repeat(65),
            "c2VjcmV0".into(),
            allow.clone()
        ),
        format!(
            r#"profile name "{}" must be 1-64 characters of [A-Za-z0-9_-]"#,
            "p".repeat(65)
        )
    );
    assert_eq!(
        attempt(repo("alice/app"), "p", "not base64!".into(), allow.clone()),
        "encrypted_secrets_base64 is not valid base64"
    );
    assert_eq!(
        attempt(repo("alice/app"), "p", String::new(), allow.clone()),
        "encrypted_secrets_base64 must be 1-32768 bytes (got 0)"
    );
    assert_eq!(
        attempt(
            repo("alice/app"),
            "p",
            "A".repeat(MAX_SECRETS_BASE64_BYTES + 4),
            allow.clone()
        ),
        "encrypted_secrets_base64 must be 1-32768 bytes (got 32772)"
    );
    let mut deep = AccessCondition::AllowAll;
    for _ in 0..8 {
        deep = AccessCondition::Not {
            condition: Box::new(deep),
        };
    }
    assert_eq!(
        attempt(repo("alice/app"), "p", "c2VjcmV0".into(), deep),
        "invalid access condition: access condition nested deeper than 8"
    );
    call("alice.near", 0);
    assert_eq!(
        refused(|| contract.store_secrets(
            repo("alice/app"),
            "p".into(),
            "c2VjcmV0".into(),
            allow.clone()
        )),
        "attach a deposit: changing secrets needs a full-access key (at least 1 yoctoNEAR)"
    );
    assert_eq!(
        refused(|| contract.update_access(repo("alice/app"), "p".into(), allow.clone())),
        r#"no secrets profile "p" of alice.near for this accessor"#
    );
    assert!(
        contract
            .list_user_secrets(account("alice.near"), None, None)
            .is_empty()
    );
}

#[test]
fn an_account_holds_at_most_100_profiles() {
    let mut contract = setup();
    let allow = AccessCondition::AllowAll;
    for i in 0..MAX_PROFILES_PER_ACCOUNT {
        store(
            &mut contract,
            "alice.near",
            NEAR,
            &repo("alice/app"),
            &format!("p{i}"),
            "c2VjcmV0",
            &allow,
        );
    }
    call("alice.near", NEAR);
    assert_eq!(
        refused(|| contract.store_secrets(
            repo("alice/app"),
            "one-more".into(),
            "c2VjcmV0".into(),
            allow.clone()
        )),
        "alice.near already has 100 secrets profiles, the most allowed"
    );
    // Replacing an existing profile is still fine.
    store(
        &mut contract,
        "alice.near",
        NEAR,
        &repo("alice/app"),
        "p0",
        "c2VjcmV0",
        &allow,
    );
    assert_eq!(
        contract
            .list_user_secrets(account("alice.near"), Some(0), Some(1000))
            .len(),
        100
    );
}
