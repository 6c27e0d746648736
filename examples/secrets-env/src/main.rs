//! Secrets-env: lists the names of the secrets in its environment and, for
//! each, only whether it is non-empty and its length. A program that handles
//! secrets should never echo them into its result.

fn main() {
    let secrets: Vec<serde_json::Value> = outlayer_sdk::secret_names()
        .into_iter()
        .map(|name| {
            let len = outlayer_sdk::secret(&name).map_or(0, |v| v.len());
            serde_json::json!({"name": name, "length": len})
        })
        .collect();
    outlayer_sdk::output_json(&serde_json::json!({
        "secrets": secrets,
        "context": outlayer_sdk::Context::from_env(),
    }));
}
