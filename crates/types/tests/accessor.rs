//! Accessor normalisation is the identity secrets are bound to: two spellings
//! of one repository must give one key, different repositories different keys.

use outlayer_types::{Accessor, AccountId, normalize_repo};

#[test]
fn repository_spellings_normalise_to_one_form() {
    for spelling in [
        "github.com/alice/app",
        "https://github.com/alice/app",
        "https://github.com/Alice/App.git",
        "http://www.github.com/alice/app/",
        "git@github.com:alice/app.git",
        "ssh://git@github.com/alice/app",
        "https://token:x-oauth@github.com/alice/app",
        "alice/app",
        "  Alice/App  ",
        // A port after a scheme is not part of the repository.
        "ssh://git@github.com:22/alice/app",
        "https://github.com:443/alice/app.git/",
        // Credentials end at the authority's last `@`.
        "https://user:p@ss@github.com/alice/app",
    ] {
        assert_eq!(
            normalize_repo(spelling).unwrap(),
            "github.com/alice/app",
            "{spelling}"
        );
    }
    assert_eq!(
        normalize_repo("https://gitlab.com/g/sub/p.git").unwrap(),
        "gitlab.com/g/sub/p"
    );
    assert_eq!(
        normalize_repo("file:///tmp/Repos/app.git/").unwrap(),
        "file:///tmp/repos/app"
    );
    // One `.git` is removed, not every one.
    assert_eq!(
        normalize_repo("file:///tmp/app.git.git").unwrap(),
        "file:///tmp/app.git"
    );
    assert_eq!(
        normalize_repo("github.com/alice/app.git.git").unwrap(),
        "github.com/alice/app.git"
    );
    // Without a host, every segment is GitHub's path.
    assert_eq!(
        normalize_repo("alice/app/extra").unwrap(),
        "github.com/alice/app/extra"
    );
    // The scp form has no port: what follows the colon is the path.
    assert_eq!(
        normalize_repo("git@github.com:22/alice/app").unwrap(),
        "github.com/22/alice/app"
    );
}

#[test]
fn malformed_repositories_are_refused() {
    for bad in [
        "",
        "   ",
        "app",
        "github.com/alice",
        "alice/../app",
        "alice/a p",
        "https://github.com/",
        // A host needs an owner and a name.
        "my.org/app",
        "https://github.com:abc/alice/app",
        "https://github.com:/alice/app",
    ] {
        let err = normalize_repo(bad).unwrap_err();
        assert!(!err.0.is_empty(), "{bad:?}");
    }
}

#[test]
fn key_seeds_name_accessor_owner_and_branch() {
    let owner: AccountId = "alice.near".parse().unwrap();
    let repo = Accessor::Repo {
        repo: "https://github.com/Alice/App".into(),
        branch: Some(" ".into()),
    }
    .normalized()
    .unwrap();
    assert_eq!(
        repo.key_seed(&owner),
        "repo:github.com/alice/app:alice.near"
    );
    let branch = Accessor::Repo {
        repo: "alice/app".into(),
        branch: Some("main".into()),
    }
    .normalized()
    .unwrap();
    assert_eq!(
        branch.key_seed(&owner),
        "repo:github.com/alice/app:alice.near:main"
    );
    let wasm = Accessor::WasmHash {
        hash: "AB".repeat(32),
    }
    .normalized()
    .unwrap();
    assert_eq!(
        wasm.key_seed(&owner),
        format!("wasm:{}:alice.near", "ab".repeat(32))
    );
    assert!(
        Accessor::WasmHash { hash: "abc".into() }
            .normalized()
            .is_err()
    );
}
