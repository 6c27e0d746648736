//! OutLayer's JavaScript engine: QuickJS inside the same sandbox as every
//! other program. `argv[1]` names the script (for error positions),
//! `argv[2]` is its source; stdin is the request's input and stdout the
//! result, exactly as for a WASI program.
//!
//! The script is an ES module (top-level `await` works). What it sees
//! besides the language (`docs/javascript.md`): `console`, `outlayer.input()`,
//! `outlayer.inputJson()`, `outlayer.output(value)`, `process.env`, `fetch`.
//! `Math.random` draws from the sandbox's (seeded) randomness and `Date`
//! reads the sandbox's clock (the block time for requests), so a request's
//! result is reproducible.
//!
//! Exit codes: 0 when the module settled and no promise rejection went
//! unhandled; 1 for an error in the script, whose one-line description
//! (`name:line:column: Uncaught Error: message`) is the last line on stderr;
//! 2 when the engine was invoked wrongly.

mod fetch;
mod host;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Exception, Function, Module, Persistent, Runtime,
    Value,
};

/// QuickJS's own recursion limit, well inside the 1 MiB shadow stack the
/// linker gives the module, so deep recursion is a catchable `RangeError`
/// and never writes past the stack into the heap.
const MAX_STACK_BYTES: usize = 256 * 1024;

/// Defines the globals from the host functions; evaluated before the script.
const PRELUDE: &str = include_str!("prelude.js");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.as_slice() {
        [_, name, source] => run(name, source),
        _ => {
            eprintln!("usage: outlayer-js-engine <script name> <script source>");
            2
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// Promise rejections nobody handled (yet), with their description.
type Unhandled = Rc<RefCell<Vec<(Persistent<Value<'static>>, String)>>>;

fn run(name: &str, source: &str) -> i32 {
    // Never torn down: the process ends right after, and freeing the heap
    // object by object would only spend the caller's fuel.
    let runtime = match Runtime::new().map(std::mem::ManuallyDrop::new) {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("the JavaScript engine could not start: {e}")),
    };
    runtime.set_max_stack_size(MAX_STACK_BYTES);
    let unhandled: Unhandled = Rc::default();
    let tracker = unhandled.clone();
    let script = name.to_owned();
    runtime.set_host_promise_rejection_tracker(Some(Box::new(
        move |ctx, promise, reason, is_handled| {
            let mut list = tracker.borrow_mut();
            if is_handled {
                list.retain(|(p, _)| p.clone().restore(&ctx).ok().as_ref() != Some(&promise));
            } else {
                let description = describe(&ctx, &script, caught(reason));
                list.push((Persistent::save(&ctx, promise), description));
            }
        },
    )));
    let context = match Context::full(&runtime).map(std::mem::ManuallyDrop::new) {
        Ok(context) => context,
        Err(e) => return fail(&format!("the JavaScript engine could not start: {e}")),
    };
    context.with(|ctx| {
        if let Err(e) = install_globals(&ctx) {
            return fail(&format!("the JavaScript engine could not start: {e}"));
        }
        let settled = Module::evaluate(ctx.clone(), name, source)
            .and_then(|promise| promise.finish::<()>())
            .catch(&ctx);
        match settled {
            Ok(()) => {}
            Err(CaughtError::Error(rquickjs::Error::WouldBlock)) => {
                return fail("top-level await never settled: nothing left to run");
            }
            Err(error) => return fail(&describe(&ctx, name, error)),
        }
        // Work queued by the module (callbacks of promises it did not
        // await); their errors become rejections, caught below.
        while ctx.execute_pending_job() {}
        let first = unhandled.borrow().first().map(|(_, d)| d.clone());
        match first {
            Some(description) => fail(&format!("(in promise) {description}")),
            None => 0,
        }
    })
}

fn install_globals(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let host = host::object(ctx)?;
    let install: Function = ctx.eval(PRELUDE)?;
    install.call::<_, ()>((host,))
}

/// Ends with the script's error as the last line of stderr.
fn fail(description: &str) -> i32 {
    let _ = std::io::stdout().flush();
    let one_line = description.replace(['\n', '\r'], " ");
    eprintln!("{one_line}");
    1
}

/// A thrown value as rquickjs reports a caught one.
fn caught<'js>(value: Value<'js>) -> CaughtError<'js> {
    match value.as_object().cloned().and_then(Exception::from_object) {
        Some(exception) => CaughtError::Exception(exception),
        None => CaughtError::Value(value),
    }
}

/// `name:line:column: Uncaught Kind: message` from what the script threw.
fn describe<'js>(ctx: &Ctx<'js>, script: &str, error: CaughtError<'js>) -> String {
    match error {
        CaughtError::Exception(exception) => {
            let kind: String = exception
                .get::<_, Option<String>>("name")
                .ok()
                .flatten()
                .unwrap_or_else(|| "Error".into());
            let message = exception.message().unwrap_or_default();
            let position = exception
                .stack()
                .as_deref()
                .and_then(|stack| script_position(stack, script))
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            format!("{position}Uncaught {kind}: {message}")
        }
        CaughtError::Value(value) => {
            let shown = host::format_value(ctx, &value);
            format!("Uncaught {shown}")
        }
        CaughtError::Error(e) => format!("Uncaught {e}"),
    }
}

/// The innermost `script:line:column` of a QuickJS stack trace (`at f
/// (a.js:3:9)` or `at a.js:3:9`): frames in the engine's own globals (a
/// `fetch` that failed) are skipped for the script's line that called them.
fn script_position(stack: &str, script: &str) -> Option<String> {
    stack.lines().find_map(|line| {
        let at = line.trim().strip_prefix("at ")?;
        let inner = match (at.rfind('('), at.strip_suffix(')')) {
            (Some(open), Some(closed)) => &closed[open + 1..],
            _ => at,
        };
        let mut parts = inner.rsplitn(3, ':');
        let column = parts.next()?;
        let line_no = parts.next()?;
        let file = parts.next()?;
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (numeric(column) && numeric(line_no) && file == script)
            .then(|| format!("{file}:{line_no}:{column}"))
    })
}
