//! What a hostile `build.rs` can do inside the sandbox: no network (tests
//! talk only to servers they start on loopback), no writes outside the
//! build, no host files, bounded time, disk and memory.

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::Duration;

use common::{BUILD_TIMEOUT, HELLO, TestBuilder, crate_repo, is_module, processes_matching};
use outlayer_builder::{BuildError, Stage};
use outlayer_types::BuildTarget;

/// Builds a crate whose `build.rs` is `build_rs`; the build's result.
async fn build_with_script(
    test: &TestBuilder,
    name: &str,
    build_rs: &str,
    timeout: Duration,
) -> Result<outlayer_builder::Artifact, BuildError> {
    let (repo, commit) = crate_repo(name, HELLO, Some(build_rs));
    test.builder
        .build(&repo.source(&commit, BuildTarget::Wasip1), timeout)
        .await
}

#[tokio::test]
async fn build_scripts_cannot_reach_a_loopback_server() {
    let test = TestBuilder::new();
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    v4.set_nonblocking(true).unwrap();
    let mut targets = vec![v4.local_addr().unwrap()];
    // IPv6 loopback when the host has it.
    let v6 = TcpListener::bind("[::1]:0").ok();
    if let Some(v6) = &v6 {
        v6.set_nonblocking(true).unwrap();
        targets.push(v6.local_addr().unwrap());
    } else {
        eprintln!("no IPv6 loopback on this host: testing 127.0.0.1 only");
    }
    let addresses: Vec<String> = targets.iter().map(|a| format!("{a:?}")).collect();
    let build_rs = format!(
        r#"use std::net::TcpStream;
use std::time::Duration;
fn main() {{
    for address in {addresses:?} {{
        let address = address.parse().unwrap();
        TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .expect("connect to the test server");
    }}
}}
"#
    );
    let error = build_with_script(&test, "netprobe", &build_rs, BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::Compile { .. }), "{error:?}");
    assert!(error.is_user_error());
    let summary = error.summary();
    assert!(
        summary.contains("failed to run custom build command"),
        "{summary}"
    );
    assert!(summary.contains("connect to the test server"), "{summary}");

    for listener in std::iter::once(&v4).chain(v6.as_ref()) {
        match listener.accept() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            other => panic!("the server saw a connection: {other:?}"),
        }
    }
    test.assert_clean();
}

#[tokio::test]
async fn build_scripts_cannot_write_outside_the_build() {
    let test = TestBuilder::new();
    let outside = tempfile::tempdir().unwrap();
    let escaped = outside.path().join("escaped.txt");
    let work_file = test.work_dir.join("escaped.txt");
    // Paths inside the sandbox that exist but must be read-only, then the
    // host paths the test checks.
    let build_rs = format!(
        r#"fn main() {{
    for path in ["/escaped.txt", "/build/src/escaped.txt", "/usr/escaped.txt",
                 "/cargo/escaped.txt", "/etc/escaped.txt", {work_file:?}] {{
        if std::fs::write(path, "x").is_ok() {{
            panic!("ESCAPED to {{path}}");
        }}
    }}
    std::fs::write({escaped:?}, "escaped").expect("write outside the build");
}}
"#
    );
    let error = build_with_script(&test, "writer", &build_rs, BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(error.is_user_error(), "{error:?}");
    let summary = error.summary();
    assert!(summary.contains("write outside the build"), "{summary}");
    assert!(!summary.contains("ESCAPED"), "{summary}");
    assert!(!escaped.exists(), "the build wrote outside its directory");
    assert!(!work_file.exists(), "the build wrote into the work dir");
    test.assert_clean();
}

#[tokio::test]
async fn build_scripts_see_no_host_files_and_a_clean_environment() {
    let test = TestBuilder::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.txt");
    std::fs::write(&secret, "s3cret").unwrap();
    let host_cargo_home = outlayer_builder::BuildSettings::default().cargo_home;
    let build_rs = format!(
        r#"fn main() {{
    for path in [{secret:?}, {work:?}, {home:?}, "/etc/shadow", "/etc/passwd", "/home", "/var"] {{
        if std::path::Path::new(path).exists() {{
            panic!("VISIBLE {{path}}");
        }}
    }}
    assert_eq!(std::env::var("HOME").unwrap(), "/build/home");
    assert_eq!(std::env::var("CARGO_HOME").unwrap(), "/cargo");
    for (name, value) in std::env::vars() {{
        assert!(!value.contains("/root/.cache"), "host value in {{name}}");
    }}
}}
"#,
        work = test.work_dir,
        home = host_cargo_home.join("bin"),
    );
    let artifact = build_with_script(&test, "reader", &build_rs, BUILD_TIMEOUT)
        .await
        .unwrap();
    assert!(is_module(&artifact.wasm));
    test.assert_clean();
}

#[tokio::test]
async fn a_build_past_its_timeout_is_killed_with_all_its_processes() {
    let test = TestBuilder::new();
    let marker = format!("3000.{}", std::process::id());
    let name = format!("sleeper{}", std::process::id());
    // A background process the build script leaves, then a long sleep.
    let build_rs = format!(
        r#"fn main() {{
    std::process::Command::new("sleep").arg("{marker}").spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3000));
}}
"#
    );
    let timeout = Duration::from_secs(40);
    let started = std::time::Instant::now();
    let build = build_with_script(&test, &name, &build_rs, timeout);
    let watch = async {
        // Both processes must have run for the test to mean anything.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if !processes_matching(&marker).is_empty() && !processes_matching(&name).is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };
    let (result, seen) = tokio::join!(build, watch);
    let elapsed = started.elapsed();
    assert!(seen, "the build script and its child never ran");
    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            BuildError::Timeout {
                stage: Stage::Compile,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_user_error());
    assert_eq!(error.summary(), "build timed out after 40 s");
    assert!(elapsed < timeout + Duration::from_secs(10), "{elapsed:?}");

    let mut left = Vec::new();
    for _ in 0..25 {
        left = processes_matching(&marker);
        left.extend(processes_matching(&name));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(left.is_empty(), "processes outlived the build: {left:?}");
    test.assert_clean();
}

#[tokio::test]
async fn the_disk_limit_holds() {
    let test = TestBuilder::with(|settings| settings.max_disk_bytes = 256 << 20);
    // Many files of 16 MiB: the tmpfs fills before any one file hits the
    // file-size limit.
    let build_rs = r#"use std::io::Write;
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let chunk = vec![7u8; 1 << 20];
    for i in 0..64 {
        let mut file = std::fs::File::create(format!("{out}/fill{i}")).expect("fill the disk");
        for _ in 0..16 {
            file.write_all(&chunk).expect("fill the disk");
        }
    }
}
"#;
    let error = build_with_script(&test, "filler", build_rs, BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::Compile { .. }), "{error:?}");
    let summary = error.summary();
    assert!(summary.contains("fill the disk"), "{summary}");
    assert!(
        error.log().unwrap().contains("No space left on device"),
        "{error:?}"
    );
    test.assert_clean();
}

#[tokio::test]
async fn the_memory_limit_holds() {
    let test = TestBuilder::with(|settings| settings.max_memory_bytes = 2 << 30);
    let build_rs = r#"fn main() {
    let big: Vec<u8> = Vec::with_capacity(3 << 30);
    println!("cargo:warning=allocated {}", big.capacity());
}
"#;
    let error = build_with_script(&test, "hog", build_rs, BUILD_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(error, BuildError::Compile { .. }), "{error:?}");
    assert!(
        error
            .log()
            .unwrap()
            .contains("memory allocation of 3221225472 bytes failed"),
        "{error:?}"
    );
    test.assert_clean();
}

#[tokio::test]
async fn a_cancelled_build_leaves_nothing_behind() {
    let test = TestBuilder::new();
    let name = format!("cancelled{}", std::process::id());
    let build_rs =
        "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(3000));\n}\n";
    let build = build_with_script(&test, &name, build_rs, BUILD_TIMEOUT);
    let watch = async {
        while processes_matching(&name).is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    // The caller gives up (drops the build future) once the script runs.
    tokio::select! {
        result = build => panic!("the build finished: {result:?}"),
        () = watch => {}
    }
    let mut left = Vec::new();
    for _ in 0..25 {
        left = processes_matching(&name);
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(left.is_empty(), "processes outlived the build: {left:?}");
    test.assert_clean();
}
