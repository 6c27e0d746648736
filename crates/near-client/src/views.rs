//! The parts of nearcore's RPC views OutLayer reads. Field names and
//! encodings are nearcore's (amounts and `timestamp_nanosec` as decimal
//! strings); fields we do not use are ignored when parsing.

use outlayer_types::{AccountId, U128};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How final the state read must be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finality {
    Optimistic,
    NearFinal,
    /// The default: access checks must not act on state that can still revert.
    #[default]
    Final,
}

/// Which block a read refers to: by finality, height or hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockReference {
    Finality(Finality),
    Height(u64),
    Hash(String),
}

impl Default for BlockReference {
    fn default() -> Self {
        Self::Finality(Finality::Final)
    }
}

impl BlockReference {
    /// The request parameters nearcore flattens into `block`/`query` params.
    pub(crate) fn to_params(&self) -> Map<String, Value> {
        let (key, value) = match self {
            Self::Finality(f) => ("finality", json!(f)),
            Self::Height(h) => ("block_id", json!(h)),
            Self::Hash(h) => ("block_id", json!(h)),
        };
        Map::from_iter([(key.to_owned(), value)])
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub chain_id: String,
    pub protocol_version: u32,
    #[serde(default)]
    pub latest_protocol_version: u32,
    #[serde(default)]
    pub genesis_hash: Option<String>,
    pub sync_info: SyncInfo,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncInfo {
    pub latest_block_hash: String,
    pub latest_block_height: u64,
    /// RFC 3339.
    pub latest_block_time: String,
    pub syncing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    pub author: AccountId,
    pub header: BlockHeaderView,
    pub chunks: Vec<ChunkHeaderView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeaderView {
    pub height: u64,
    #[serde(default)]
    pub prev_height: Option<u64>,
    pub hash: String,
    pub prev_hash: String,
    pub epoch_id: String,
    /// Nanoseconds since the Unix epoch.
    pub timestamp: u64,
    /// The same, as nearcore also sends it: a decimal string.
    pub timestamp_nanosec: U64String,
    /// Base58; the block's randomness beacon.
    pub random_value: String,
    pub gas_price: U128,
    #[serde(default)]
    pub last_final_block: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkHeaderView {
    pub chunk_hash: String,
    pub shard_id: u64,
    pub height_created: u64,
    pub height_included: u64,
    pub gas_used: u64,
    pub gas_limit: u64,
}

/// A `u64` that nearcore writes as a decimal string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct U64String(pub u64);

impl Serialize for U64String {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for U64String {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map(Self)
            .map_err(|_| serde::de::Error::custom(format!("expected a decimal u64, got {text:?}")))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// Liquid balance, yoctoNEAR.
    pub amount: U128,
    /// Staked balance, yoctoNEAR.
    pub locked: U128,
    pub code_hash: String,
    pub storage_usage: u64,
    pub block_height: u64,
    pub block_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyView {
    pub nonce: u64,
    pub permission: AccessKeyPermission,
    pub block_height: u64,
    pub block_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyPermission {
    FullAccess,
    FunctionCall {
        allowance: Option<U128>,
        receiver_id: AccountId,
        method_names: Vec<String>,
    },
}

/// What a view function returned: raw bytes (usually JSON) and its logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallResult {
    pub result: Vec<u8>,
    pub logs: Vec<String>,
    pub block_height: u64,
    pub block_hash: String,
}
