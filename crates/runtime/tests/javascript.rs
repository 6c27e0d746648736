//! JavaScript programs on the QuickJS engine (`js-engine/`, built by
//! `scripts/build-js-engine`): the same sandbox, limits, determinism and
//! network policy as WASI programs, and script errors reported with their
//! position.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{context, example, js_engine, js_example, run_js, runtime, text};
use outlayer_runtime::{ErrorKind, Execution, ExecutionType, HttpPolicy, Randomness};
use outlayer_types::{ExecutionOutput, ResourceLimits, ResponseFormat};
use serde_json::{Value, json};

fn request(request_id: u64, input: &str) -> Execution {
    let ctx = context(request_id);
    Execution {
        input: input.as_bytes().to_vec(),
        randomness: Randomness::for_request(&ctx),
        context: Some(ctx),
        execution_type: ExecutionType::Near,
        ..Execution::default()
    }
}

fn failure(outcome: &outlayer_runtime::Outcome) -> (ErrorKind, String) {
    let error = outcome.error.as_ref().unwrap_or_else(|| {
        panic!("expected a failure, got {:?}", outcome.output);
    });
    (error.kind, error.message.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn input_and_output_like_a_wasi_program() {
    let outcome = run_js(
        r#"const name = outlayer.input();
           console.log("hello", name, 42, {a: [1, "x"]});
           outlayer.output({done: true});
           console.error("to stderr");"#,
        Execution {
            input: b"world".to_vec(),
            ..Execution::default()
        },
    )
    .await;
    assert_eq!(
        text(&outcome),
        "hello world 42 {\"a\":[1,\"x\"]}\n{\"done\":true}"
    );
    assert_eq!(outcome.stderr, "to stderr\n");
    assert_eq!(outcome.exit_code, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn json_results_and_json_input() {
    let outcome = run_js(
        "const {a, b} = outlayer.inputJson(); outlayer.output({sum: a + b});",
        Execution {
            input: br#"{"a": 2, "b": 40}"#.to_vec(),
            response_format: ResponseFormat::Json,
            ..Execution::default()
        },
    )
    .await;
    assert_eq!(
        outcome.output,
        Some(ExecutionOutput::Json(json!({"sum": 42})))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_logic_in_javascript_and_rust_gives_the_same_output() {
    for input in ["1000", "20000"] {
        let rust = runtime()
            .execute(example("compute"), request(1, input))
            .await;
        let javascript = runtime()
            .run_script(&js_engine(), &js_example("compute.js"), request(1, input))
            .await;
        assert!(rust.success(), "{:?}", rust.error);
        assert_eq!(text(&javascript), text(&rust), "input {input:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn randomness_and_time_come_from_the_request() {
    let script = "outlayer.output({r: [Math.random(), Math.random()], now: Date.now(), \
                  iso: new Date().toISOString()})";
    let first = run_js(script, request(7, "")).await;
    let again = run_js(script, request(7, "")).await;
    let other = run_js(script, request(8, "")).await;
    let value = |o: &outlayer_runtime::Outcome| -> Value { serde_json::from_str(text(o)).unwrap() };
    assert_eq!(value(&first), value(&again), "same request, same result");
    assert_ne!(
        value(&first)["r"],
        value(&other)["r"],
        "another request draws others"
    );
    // The block timestamp (ns) as milliseconds.
    assert_eq!(value(&first)["now"], json!(1_700_000_000_123u64));
    assert_eq!(value(&first)["iso"], json!("2023-11-14T22:13:20.123Z"));
    let r = value(&first)["r"][0].as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_context_arrive_in_process_env() {
    let mut execution = request(3, "");
    execution.secrets.insert("API_KEY".into(), "s3cret".into());
    let outcome = run_js(
        "outlayer.output([process.env.API_KEY, process.env.NEAR_SENDER_ID, process.env.PATH ?? null])",
        execution,
    )
    .await;
    assert_eq!(text(&outcome), r#"["s3cret","alice.near",null]"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_the_line_and_column() {
    let syntax = run_js("let x = 1;\nlet y = (;\n", Execution::default()).await;
    assert_eq!(
        failure(&syntax),
        (
            ErrorKind::Exit,
            "program.js:2:9: Uncaught SyntaxError: unexpected token in expression: ';'".into()
        )
    );

    let thrown = run_js("function f() {\n  null.x;\n}\nf();", Execution::default()).await;
    assert_eq!(
        failure(&thrown).1,
        "program.js:2:3: Uncaught TypeError: cannot read property 'x' of null"
    );

    let custom = run_js("throw new RangeError('too far');", Execution::default()).await;
    assert_eq!(
        failure(&custom).1,
        "program.js:1:10: Uncaught RangeError: too far"
    );

    let value = run_js("throw {code: 7};", Execution::default()).await;
    assert_eq!(failure(&value).1, r#"Uncaught {"code":7}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn promise_rejections_fail_the_program() {
    let awaited = run_js(
        "await Promise.reject(new Error('nope'));",
        Execution::default(),
    )
    .await;
    assert_eq!(failure(&awaited).1, "program.js:1:25: Uncaught Error: nope");

    let floating = run_js(
        "Promise.reject(new Error('lost')); outlayer.output('partial');",
        Execution::default(),
    )
    .await;
    assert_eq!(
        failure(&floating).1,
        "(in promise) program.js:1:19: Uncaught Error: lost"
    );

    let handled = run_js(
        "const p = Promise.reject(new Error('late')); p.catch(() => outlayer.output('caught'));",
        Execution::default(),
    )
    .await;
    assert_eq!(text(&handled), "caught");

    let never = run_js("await new Promise(() => {});", Execution::default()).await;
    assert_eq!(
        failure(&never).1,
        "top-level await never settled: nothing left to run"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_ends_by_fuel() {
    let outcome = run_js(
        "for (;;) {}",
        Execution {
            limits: ResourceLimits {
                max_instructions: 50_000_000,
                ..ResourceLimits::default()
            },
            ..Execution::default()
        },
    )
    .await;
    assert_eq!(failure(&outcome).0, ErrorKind::FuelExhausted);
    assert_eq!(outcome.metrics.instructions, 50_000_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allocation_bomb_ends_by_the_memory_limit() {
    let outcome = run_js(
        "const keep = []; for (;;) keep.push(new Array(1 << 20).fill(keep.length));",
        Execution {
            limits: ResourceLimits {
                max_memory_mb: 32,
                ..ResourceLimits::default()
            },
            ..Execution::default()
        },
    )
    .await;
    assert_eq!(
        failure(&outcome).0,
        ErrorKind::MemoryLimit,
        "{:?}",
        outcome.error
    );
    assert!(outcome.metrics.peak_memory_bytes <= 32 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_recursion_ends_cleanly() {
    let outcome = run_js(
        "function f(n) { return f(n + 1) + 1; }\nf(0);",
        Execution::default(),
    )
    .await;
    assert_eq!(failure(&outcome).0, ErrorKind::StackOverflow);
    // The engine is intact afterwards: the next script runs normally.
    assert_eq!(
        text(&run_js("outlayer.output('ok')", Execution::default()).await),
        "ok"
    );
}

/// A one-thread HTTP/1.1 server on loopback answering with `body` and
/// echoing the request line and body it got.
fn serve(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Headers, then as many body bytes as Content-Length says.
            let mut bytes = Vec::new();
            let mut buf = [0u8; 8192];
            let request = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                bytes.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    body.len() >= length
                });
                if complete || n == 0 {
                    break text;
                }
            };
            let first = request.lines().next().unwrap_or_default().to_owned();
            let sent = request
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let reply = format!("{body}|{first}|{sent}");
            let head = format!(
                "HTTP/1.1 201 Created\r\nContent-Length: {}\r\nX-Test: yes\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_goes_through_the_network_policy() {
    let port = serve("pong");
    let script = format!(
        "const r = await fetch('http://127.0.0.1:{port}/p?q=1', {{method: 'POST', body: 'ping', \
         headers: {{'content-length': '4'}}}});\n\
         outlayer.output({{status: r.status, ok: r.ok, header: r.headers.get('X-Test'), body: await r.text()}});"
    );
    let allowed = run_js(
        &script,
        Execution {
            http: HttpPolicy {
                allowed_hosts: vec!["127.0.0.1".into()],
                ..HttpPolicy::default()
            },
            ..Execution::default()
        },
    )
    .await;
    let value: Value = serde_json::from_str(text(&allowed)).unwrap();
    assert_eq!(
        value,
        json!({"status": 201, "ok": true, "header": "yes", "body": "pong|POST /p?q=1 HTTP/1.1|ping"})
    );

    // The same request without the explicit opt-in: loopback is private.
    let refused = run_js(&script, Execution::default()).await;
    assert_eq!(
        failure(&refused).1,
        format!(
            "program.js:1:16: Uncaught TypeError: fetch http://127.0.0.1:{port}/p?q=1: the address is private or reserved: refused by the sandbox's network policy"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn examples_run() {
    let hello = runtime()
        .run_script(&js_engine(), &js_example("hello.js"), request(5, "NEAR"))
        .await;
    let value: Value = serde_json::from_str(text(&hello)).unwrap();
    assert_eq!(value["greeting"], "Hello, NEAR!");
    assert_eq!(value["at"], "2023-11-14T22:13:20.123Z");
}
