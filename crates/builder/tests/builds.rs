//! Building from git: real git, real cargo, real bubblewrap.

mod common;

use std::path::Path;

use common::{BUILD_TIMEOUT, HELLO, Repo, TestBuilder, crate_repo, is_component, is_module};
use outlayer_builder::BuildError;
use outlayer_types::{BuildTarget, CodeSource};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn builds_a_p1_module_from_a_file_repo_at_a_commit() {
    let test = TestBuilder::new();
    let (repo, commit) = crate_repo("hello", HELLO, None);
    // A later commit that would not compile: the build must use `commit`.
    repo.write(&[("src/main.rs", "fn main() { broken }")]);
    repo.commit("break it");

    let artifact = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap();
    assert!(is_module(&artifact.wasm), "not a core module");
    assert_eq!(artifact.sha256, hex::encode(Sha256::digest(&artifact.wasm)));
    assert!(artifact.compile_time_ms > 0);
    assert!(
        artifact.log_tail.contains("Compiling hello"),
        "{}",
        artifact.log_tail
    );
    assert!(artifact.log_tail.len() <= 8 * 1024);
    test.assert_clean();
}

#[tokio::test]
async fn builds_a_p2_component() {
    let test = TestBuilder::new();
    let (repo, commit) = crate_repo("hello2", HELLO, None);
    let artifact = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip2), BUILD_TIMEOUT)
        .await
        .unwrap();
    assert!(is_component(&artifact.wasm), "not a component");
    test.assert_clean();
}

#[tokio::test]
async fn a_branch_resolves_to_its_commit_and_follows_it() {
    let test = TestBuilder::new();
    let (repo, first) = crate_repo("moving", HELLO, None);
    let builder = &test.builder;
    let branch = repo.source("main", BuildTarget::Wasip1);

    let resolved = builder.resolve(&branch).await.unwrap();
    assert_eq!(resolved, repo.source(&first, BuildTarget::Wasip1));

    let second = repo.commit("move main");
    assert_ne!(first, second);
    // Within the TTL the cached answer stands; once forgotten, the new one.
    assert_eq!(
        builder.resolve(&branch).await.unwrap().commit(),
        Some(first.as_str())
    );
    builder.clear_resolve_cache();
    assert_eq!(
        builder.resolve(&branch).await.unwrap().commit(),
        Some(second.as_str())
    );

    // An annotated tag gives the commit it points at, not the tag object.
    repo.git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "tag",
        "-a",
        "v1",
        "-m",
        "v1",
        &first,
    ]);
    let tag = repo.source("v1", BuildTarget::Wasip1);
    assert_eq!(
        builder.resolve(&tag).await.unwrap().commit(),
        Some(first.as_str())
    );

    // A full hash and a binary come back unchanged, without asking git.
    let pinned = repo.source(&second, BuildTarget::Wasip1);
    assert_eq!(builder.resolve(&pinned).await.unwrap(), pinned);
    let binary = CodeSource::WasmUrl {
        url: "https://example.com/a.wasm".into(),
        hash: "ab".repeat(32),
        build_target: BuildTarget::Wasip1,
    };
    assert_eq!(builder.resolve(&binary).await.unwrap(), binary);

    let missing = builder
        .resolve(&repo.source("no-such-branch", BuildTarget::Wasip1))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, BuildError::UnknownRevision { .. }),
        "{missing}"
    );
    assert!(missing.is_user_error());

    // The resolved source builds.
    let resolved = builder.resolve(&branch).await.unwrap();
    let artifact = builder.build(&resolved, BUILD_TIMEOUT).await.unwrap();
    assert!(is_module(&artifact.wasm));

    // An unresolved source is the caller's mistake, not the user's.
    let error = builder.build(&branch, BUILD_TIMEOUT).await.unwrap_err();
    assert!(matches!(error, BuildError::Unresolved { .. }), "{error}");
    assert!(!error.is_user_error());
}

#[tokio::test]
async fn a_git_package_in_a_workspace_with_a_path_dependency_builds() {
    let test = TestBuilder::new();
    let repo = Repo::new(&[
        (
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"apps/app\", \"libs/util\"]\n",
        ),
        (
            "apps/app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nutil = { path = \"../../libs/util\" }\n",
        ),
        (
            "apps/app/src/main.rs",
            "fn main() {\n    println!(\"{}\", util::answer());\n}\n",
        ),
        (
            "libs/util/Cargo.toml",
            "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "libs/util/src/lib.rs",
            "pub fn answer() -> u32 {\n    42\n}\n",
        ),
    ]);
    repo.lock(".");
    let commit = repo.commit("workspace");
    let source = CodeSource::GitPackage {
        repo: repo.url(),
        commit,
        path: "apps/app".into(),
        build_target: BuildTarget::Wasip1,
    };
    let artifact = test.builder.build(&source, BUILD_TIMEOUT).await.unwrap();
    assert!(is_module(&artifact.wasm));
    test.assert_clean();
}

/// The repository's own layout: `examples/echo` in the `examples/`
/// workspace, depending on `../sdk` (whose manifest inherits from the root
/// workspace). The sdk's registry dependencies (serde, serde_json) are
/// fetched into the default cargo home, which needs crates.io.
#[tokio::test]
async fn the_echo_example_builds_as_a_git_package() {
    let test = TestBuilder::with(|settings| {
        settings.cargo_home = outlayer_builder::BuildSettings::default().cargo_home;
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = Repo::new(&[(
        "Cargo.toml",
        // The root workspace's sections the sdk inherits from.
        "[workspace]\nresolver = \"3\"\nmembers = [\"sdk\"]\nexclude = [\"examples\"]\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\nrust-version = \"1.95\"\n\
         license = \"MIT OR Apache-2.0\"\npublish = false\n\n\
         [workspace.lints.rust]\nunsafe_code = \"forbid\"\nunreachable_pub = \"warn\"\n",
    )]);
    let copy = |from: &str| {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(root.join(from))
            .arg(repo.path().join(from))
            .status()
            .unwrap();
        assert!(status.success());
    };
    copy("sdk");
    copy("examples");
    for built in ["sdk/target", "examples/target"] {
        let _ = std::fs::remove_dir_all(repo.path().join(built));
    }
    let commit = repo.commit("echo");
    let source = CodeSource::GitPackage {
        repo: repo.url(),
        commit,
        path: "examples/echo".into(),
        build_target: BuildTarget::Wasip1,
    };
    let artifact = test.builder.build(&source, BUILD_TIMEOUT).await.unwrap();
    assert!(is_module(&artifact.wasm));
    test.assert_clean();
}

#[tokio::test]
async fn file_repos_are_refused_without_the_flag() {
    let test = TestBuilder::with(|settings| settings.allow_file_repos = false);
    let (repo, commit) = crate_repo("refused", HELLO, None);
    let source = repo.source(&commit, BuildTarget::Wasip1);
    for error in [
        test.builder
            .build(&source, BUILD_TIMEOUT)
            .await
            .unwrap_err(),
        test.builder
            .resolve(&repo.source("main", BuildTarget::Wasip1))
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(error, BuildError::RepoRefused { .. }), "{error}");
        assert!(error.is_user_error());
        assert!(!error.summary().contains(&repo.path().display().to_string()));
    }
    // Other schemes are refused whatever the flag.
    let test = TestBuilder::new();
    for repo in [
        "http://github.com/a/b",
        "ssh://git@github.com/a/b",
        "git://github.com/a/b",
    ] {
        let source = CodeSource::GitHub {
            repo: repo.into(),
            commit: "a".repeat(40),
            build_target: BuildTarget::Wasip1,
        };
        let error = test
            .builder
            .build(&source, BUILD_TIMEOUT)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BuildError::RepoRefused { .. }),
            "{repo}: {error}"
        );
    }
}

#[tokio::test]
async fn an_unknown_commit_is_a_user_error() {
    let test = TestBuilder::new();
    let (repo, _) = crate_repo("unknown", HELLO, None);
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let error = test
        .builder
        .build(&repo.source(missing, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(error, BuildError::CommitNotFound { .. }),
        "{error:?}"
    );
    assert!(error.is_user_error());
    assert_eq!(error.summary(), format!("commit {missing} not found"));

    let gone = CodeSource::GitHub {
        repo: format!("file://{}/nothing-here", repo.path().display()),
        commit: missing.into(),
        build_target: BuildTarget::Wasip1,
    };
    let error = test.builder.build(&gone, BUILD_TIMEOUT).await.unwrap_err();
    assert!(
        matches!(error, BuildError::RepoUnavailable { .. }),
        "{error:?}"
    );
    assert!(error.is_user_error());
    test.assert_clean();
}

#[tokio::test]
async fn a_compile_error_names_the_error_and_its_location() {
    let test = TestBuilder::new();
    let (repo, commit) = crate_repo(
        "broken",
        "fn main() {\n    let y = 1;\n    println!(\"{}\", x);\n}\n",
        None,
    );
    let error = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(error.is_user_error(), "{error:?}");
    assert_eq!(
        error.summary(),
        "compilation failed: error[E0425]: cannot find value `x` in this scope (src/main.rs:3:20)"
    );
    let log = error.log().unwrap();
    assert!(log.contains("--> src/main.rs:3:20"), "{log}");
    test.assert_clean();
}

#[tokio::test]
async fn a_missing_lock_file_is_a_user_error() {
    let test = TestBuilder::new();
    let repo = Repo::new(&[
        ("Cargo.toml", &common::manifest("nolock")),
        ("src/main.rs", HELLO),
    ]);
    let commit = repo.commit("no lock");
    let error = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::MissingLockfile), "{error:?}");
    assert!(error.is_user_error());
    test.assert_clean();
}

#[tokio::test]
async fn symlinks_are_checked_out_as_plain_files() {
    // A repository cannot point what cargo reads on the host at a host file
    // (a parse error would quote it back to the caller).
    let test = TestBuilder::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.toml");
    std::fs::write(&secret, "[package]\nname = \"host-secret-3f9a\"\nbroken").unwrap();
    let repo = Repo::new(&[("src/main.rs", HELLO)]);
    std::os::unix::fs::symlink(&secret, repo.path().join("Cargo.toml")).unwrap();
    std::fs::write(repo.path().join("Cargo.lock"), "version = 4\n").unwrap();
    let commit = repo.commit("link");
    let error = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(error.is_user_error(), "{error:?}");
    assert!(
        !format!("{error:?}").contains("host-secret-3f9a"),
        "{error:?}"
    );
    test.assert_clean();
}

#[tokio::test]
async fn the_repository_cargo_config_applies_to_the_sandboxed_build() {
    // `cargo fetch` runs on the host from outside the checkout, so the
    // repository's config (which could name programs to run) is not read
    // there; the build in the sandbox reads it, as users expect.
    let test = TestBuilder::new();
    let repo = Repo::new(&[
        (
            "src/main.rs",
            "#[cfg(not(outlayer_repo_config))]\ncompile_error!(\"repository config not applied\");\n\
             fn main() {}\n",
        ),
        (
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"outlayer_repo_config\"]\n",
        ),
        ("Cargo.toml", &common::manifest("configured")),
    ]);
    repo.lock(".");
    let commit = repo.commit("config");
    let artifact = test
        .builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), BUILD_TIMEOUT)
        .await
        .unwrap();
    assert!(is_module(&artifact.wasm));
}
