//! Random: rolls `count` dice (input JSON `{"count": n}`, default 5) with
//! WASI randomness. For an on-chain request the runtime derives that
//! randomness from the request and block seed, so every worker rolls the
//! same dice; locally, `outlayer run --seed` does the same.

fn main() {
    let count = outlayer_sdk::input_json::<serde_json::Value>()
        .ok()
        .and_then(|v| v.get("count").and_then(|c| c.as_u64()))
        .unwrap_or(5)
        .min(1000) as usize;
    let mut bytes = vec![0u8; count * 4];
    getrandom::fill(&mut bytes).expect("WASI random_get");
    let dice: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")) % 6 + 1)
        .collect();
    outlayer_sdk::output_json(&serde_json::json!({
        "dice": dice,
        "request_id": outlayer_sdk::Context::from_env().request_id,
    }));
}
