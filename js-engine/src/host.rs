//! The host functions the prelude builds the script's globals from. They
//! are handed to the prelude as one object and never put on `globalThis`.

use std::io::{Read, Write};

use rquickjs::convert::Coerced;
use rquickjs::{Ctx, Exception, Function, Object, Result, Value};

pub fn object<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    host.set("write", Function::new(ctx.clone(), write)?)?;
    host.set("readInput", Function::new(ctx.clone(), read_input)?)?;
    host.set("random", Function::new(ctx.clone(), random)?)?;
    host.set("fetch", Function::new(ctx.clone(), crate::fetch::fetch)?)?;
    let env = Object::new(ctx.clone())?;
    for (name, value) in std::env::vars() {
        env.set(name, value)?;
    }
    host.set("env", env)?;
    Ok(host)
}

/// stdout (1) is the result, stderr (2) diagnostics. Past the sandbox's
/// output cap the write never returns: the sandbox ends the program.
fn write(ctx: Ctx<'_>, fd: i32, text: String) -> Result<()> {
    let written = match fd {
        1 => std::io::stdout().lock().write_all(text.as_bytes()),
        2 => {
            let _ = std::io::stdout().flush();
            std::io::stderr().lock().write_all(text.as_bytes())
        }
        _ => return Err(Exception::throw_range(&ctx, "no such stream")),
    };
    written.map_err(|e| Exception::throw_internal(&ctx, &format!("write failed: {e}")))
}

/// The request's input (stdin) as text.
fn read_input(ctx: Ctx<'_>) -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Exception::throw_internal(&ctx, &format!("reading the input failed: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Exception::throw_type(&ctx, "the input is not valid UTF-8 text"))
}

/// A double in [0, 1) from the sandbox's randomness: 53 random bits.
fn random() -> f64 {
    (wasi::random::random::get_random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// How a thrown value that is not an `Error` is shown: strings as they are,
/// anything JSON can say as JSON, the rest as `String(value)`.
pub fn format_value<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
        return text;
    }
    if let Ok(Some(json)) = ctx.json_stringify(value.clone())
        && let Ok(json) = json.to_string()
    {
        return json;
    }
    value
        .get::<Coerced<String>>()
        .map(|s| s.0)
        .unwrap_or_else(|_| "a value that cannot be shown".into())
}
