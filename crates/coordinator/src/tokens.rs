//! Worker token administration (`outlayer coordinator token ...`), working on
//! the store directly: the plaintext token exists only in the output of
//! [`create`].

use crate::auth::{generate_token, hash_token, validate_token_name};
use crate::error::Result;
use crate::store::{Store, TokenRecord, now_ms};

/// Creates a token and returns it; it cannot be shown again.
pub async fn create(store: &Store, name: &str) -> Result<String> {
    validate_token_name(name)?;
    let token = generate_token()?;
    store
        .insert_token(name, &hash_token(&token), now_ms())
        .await?;
    Ok(token)
}

pub async fn list(store: &Store) -> Result<Vec<TokenRecord>> {
    store.list_tokens().await
}

/// Revokes the live token with this name; false if there is none.
pub async fn revoke(store: &Store, name: &str) -> Result<bool> {
    store.revoke_token(name, now_ms()).await
}
