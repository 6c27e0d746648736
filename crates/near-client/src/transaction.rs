//! NEAR transactions in nearcore's Borsh layout, the bytes that are hashed,
//! signed and sent.
//!
//! Layout (`Transaction` V0, which nearcore writes without a version tag):
//! `signer_id: String, public_key: PublicKey, nonce: u64, receiver_id: String,
//! block_hash: [u8; 32], actions: Vec<Action>`; a [`PublicKey`] is the key
//! type byte (0 = ED25519) and 32 bytes; a [`SignedTransaction`] appends a
//! [`Signature`] (0 = ED25519, then 64 bytes). Strings and vectors carry a
//! little-endian `u32` length; integers are little-endian. The signed message
//! is `sha256(borsh(Transaction))`, which is also the transaction's hash.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use borsh::{BorshDeserialize, BorshSerialize};
use outlayer_types::{AccountId, U128};
// serde's traits are named in full below: their `serialize` and
// `deserialize` methods would clash with Borsh's.
use serde::{Deserializer, Serializer};
use sha2::{Digest, Sha256};

use crate::signer::{KeyError, Signer};
use crate::views::AccessKeyPermission;

/// The key type byte nearcore writes before ED25519 keys and signatures.
const ED25519: u8 = 0;

/// A 32-byte SHA-256 hash (block or transaction hash); displayed in base58
/// as nearcore prints it.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize, BorshDeserialize,
)]
pub struct CryptoHash(pub [u8; 32]);

impl CryptoHash {
    /// SHA-256 of `bytes`.
    pub fn hash(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptoHash({self})")
    }
}

impl FromStr for CryptoHash {
    type Err = KeyError;

    /// Parses base58 (e.g. a block's `hash` from the `block` view).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_base58_array(s, "hash").map(Self)
    }
}

impl serde::Serialize for CryptoHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CryptoHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An ED25519 public key: `ed25519:<base58>` in text, `0 ‖ 32 bytes` in Borsh.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    /// Parses `ed25519:<base58>`; bare base58 is taken as ED25519, as
    /// near-api-js does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_base58_array(strip_curve(s)?, "public key").map(Self)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl BorshSerialize for PublicKey {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(&[ED25519])?;
        writer.write_all(&self.0)
    }
}

impl BorshDeserialize for PublicKey {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        read_key_type(reader)?;
        <[u8; 32]>::deserialize_reader(reader).map(Self)
    }
}

/// An ED25519 signature: `ed25519:<base58>` in text, `0 ‖ 64 bytes` in Borsh.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl BorshSerialize for Signature {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(&[ED25519])?;
        writer.write_all(&self.0)
    }
}

impl BorshDeserialize for Signature {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        read_key_type(reader)?;
        <[u8; 64]>::deserialize_reader(reader).map(Self)
    }
}

fn read_key_type<R: Read>(reader: &mut R) -> io::Result<()> {
    match u8::deserialize_reader(reader)? {
        ED25519 => Ok(()),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unsupported key type {other} (only 0 = ED25519)"),
        )),
    }
}

/// An access key as `AddKey` grants it: its starting nonce and permission.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccessKey {
    pub nonce: u64,
    pub permission: AccessKeyPermission,
}

impl AccessKey {
    pub fn full_access() -> Self {
        Self {
            nonce: 0,
            permission: AccessKeyPermission::FullAccess,
        }
    }
}

// Borsh as nearcore's `AccessKeyPermission`: 0 = FunctionCall
// {allowance: Option<u128>, receiver_id, method_names}, 1 = FullAccess.
impl BorshSerialize for AccessKeyPermission {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        match self {
            Self::FunctionCall {
                allowance,
                receiver_id,
                method_names,
            } => {
                0u8.serialize(writer)?;
                allowance.map(|a| a.0).serialize(writer)?;
                receiver_id.serialize(writer)?;
                method_names.serialize(writer)
            }
            Self::FullAccess => 1u8.serialize(writer),
        }
    }
}

impl BorshDeserialize for AccessKeyPermission {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(Self::FunctionCall {
                allowance: Option::<u128>::deserialize_reader(reader)?.map(U128),
                receiver_id: AccountId::deserialize_reader(reader)?,
                method_names: Vec::deserialize_reader(reader)?,
            }),
            1 => Ok(Self::FullAccess),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown access key permission {other}"),
            )),
        }
    }
}

/// One action of a transaction, with nearcore's Borsh variant indices
/// (`Delegate` = 8 and the newer global-contract actions are not supported).
#[derive(Clone, PartialEq, Eq)]
pub enum Action {
    /// 0
    CreateAccount,
    /// 1: the contract's wasm.
    DeployContract { code: Vec<u8> },
    /// 2: `deposit` in yoctoNEAR, `gas` in gas units.
    FunctionCall {
        method_name: String,
        args: Vec<u8>,
        gas: u64,
        deposit: u128,
    },
    /// 3: yoctoNEAR.
    Transfer { deposit: u128 },
    /// 4
    Stake { stake: u128, public_key: PublicKey },
    /// 5
    AddKey {
        public_key: PublicKey,
        access_key: AccessKey,
    },
    /// 6
    DeleteKey { public_key: PublicKey },
    /// 7
    DeleteAccount { beneficiary_id: AccountId },
}

impl Action {
    /// A function call with JSON (or any) argument bytes.
    pub fn function_call(
        method_name: impl Into<String>,
        args: Vec<u8>,
        gas: u64,
        deposit: u128,
    ) -> Self {
        Self::FunctionCall {
            method_name: method_name.into(),
            args,
            gas,
            deposit,
        }
    }

    pub fn transfer(deposit: u128) -> Self {
        Self::Transfer { deposit }
    }
}

/// Function-call arguments are usually JSON: show them as text when they are
/// UTF-8, and never dump a contract's wasm.
impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateAccount => f.write_str("CreateAccount"),
            Self::DeployContract { code } => f
                .debug_struct("DeployContract")
                .field("code_len", &code.len())
                .finish(),
            Self::FunctionCall {
                method_name,
                args,
                gas,
                deposit,
            } => {
                let mut s = f.debug_struct("FunctionCall");
                s.field("method_name", method_name);
                match std::str::from_utf8(args) {
                    Ok(text) => s.field("args", &text),
                    Err(_) => s.field("args", args),
                };
                s.field("gas", gas).field("deposit", deposit).finish()
            }
            Self::Transfer { deposit } => f
                .debug_struct("Transfer")
                .field("deposit", deposit)
                .finish(),
            Self::Stake { stake, public_key } => f
                .debug_struct("Stake")
                .field("stake", stake)
                .field("public_key", public_key)
                .finish(),
            Self::AddKey {
                public_key,
                access_key,
            } => f
                .debug_struct("AddKey")
                .field("public_key", public_key)
                .field("access_key", access_key)
                .finish(),
            Self::DeleteKey { public_key } => f
                .debug_struct("DeleteKey")
                .field("public_key", public_key)
                .finish(),
            Self::DeleteAccount { beneficiary_id } => f
                .debug_struct("DeleteAccount")
                .field("beneficiary_id", beneficiary_id)
                .finish(),
        }
    }
}

impl BorshSerialize for Action {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        match self {
            Self::CreateAccount => 0u8.serialize(w),
            Self::DeployContract { code } => {
                1u8.serialize(w)?;
                code.serialize(w)
            }
            Self::FunctionCall {
                method_name,
                args,
                gas,
                deposit,
            } => {
                2u8.serialize(w)?;
                method_name.serialize(w)?;
                args.serialize(w)?;
                gas.serialize(w)?;
                deposit.serialize(w)
            }
            Self::Transfer { deposit } => {
                3u8.serialize(w)?;
                deposit.serialize(w)
            }
            Self::Stake { stake, public_key } => {
                4u8.serialize(w)?;
                stake.serialize(w)?;
                public_key.serialize(w)
            }
            Self::AddKey {
                public_key,
                access_key,
            } => {
                5u8.serialize(w)?;
                public_key.serialize(w)?;
                access_key.serialize(w)
            }
            Self::DeleteKey { public_key } => {
                6u8.serialize(w)?;
                public_key.serialize(w)
            }
            Self::DeleteAccount { beneficiary_id } => {
                7u8.serialize(w)?;
                beneficiary_id.serialize(w)
            }
        }
    }
}

impl BorshDeserialize for Action {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        Ok(match u8::deserialize_reader(r)? {
            0 => Self::CreateAccount,
            1 => Self::DeployContract {
                code: Vec::deserialize_reader(r)?,
            },
            2 => Self::FunctionCall {
                method_name: String::deserialize_reader(r)?,
                args: Vec::deserialize_reader(r)?,
                gas: u64::deserialize_reader(r)?,
                deposit: u128::deserialize_reader(r)?,
            },
            3 => Self::Transfer {
                deposit: u128::deserialize_reader(r)?,
            },
            4 => Self::Stake {
                stake: u128::deserialize_reader(r)?,
                public_key: PublicKey::deserialize_reader(r)?,
            },
            5 => Self::AddKey {
                public_key: PublicKey::deserialize_reader(r)?,
                access_key: AccessKey::deserialize_reader(r)?,
            },
            6 => Self::DeleteKey {
                public_key: PublicKey::deserialize_reader(r)?,
            },
            7 => Self::DeleteAccount {
                beneficiary_id: AccountId::deserialize_reader(r)?,
            },
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unsupported action {other}"),
                ));
            }
        })
    }
}

/// An unsigned transaction (nearcore's `Transaction::V0`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    pub signer_id: AccountId,
    pub public_key: PublicKey,
    /// Must exceed the access key's current nonce.
    pub nonce: u64,
    pub receiver_id: AccountId,
    /// A recent block: the transaction expires about a day of blocks later.
    pub block_hash: CryptoHash,
    pub actions: Vec<Action>,
}

impl Transaction {
    pub fn to_borsh(&self) -> Vec<u8> {
        to_borsh(self)
    }

    /// `sha256(borsh(self))`: what is signed, and the transaction's hash.
    pub fn hash(&self) -> CryptoHash {
        CryptoHash::hash(&self.to_borsh())
    }

    /// Signs with `signer`'s key. The transaction's `public_key` should be
    /// `signer.public_key()`; nodes reject the signature otherwise.
    pub fn sign(self, signer: &Signer) -> SignedTransaction {
        let signature = signer.sign(&self.hash().0);
        SignedTransaction {
            transaction: self,
            signature,
        }
    }
}

/// A transaction and its signature, as `send_tx` takes it (Borsh, base64).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    pub transaction: Transaction,
    pub signature: Signature,
}

impl SignedTransaction {
    /// The transaction's hash (the signature is not part of it); its base58
    /// `Display` is what explorers and the `tx` method take.
    pub fn hash(&self) -> CryptoHash {
        self.transaction.hash()
    }

    pub fn to_borsh(&self) -> Vec<u8> {
        to_borsh(self)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_borsh())
    }

    /// Parses Borsh bytes; trailing bytes are an error.
    pub fn from_borsh(bytes: &[u8]) -> io::Result<Self> {
        borsh::from_slice(bytes)
    }

    /// Whether `signature` is `public_key`'s ED25519 signature of the hash.
    pub fn verify(&self) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.transaction.public_key.0)
        else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature.0);
        key.verify_strict(&self.hash().0, &signature).is_ok()
    }
}

fn to_borsh<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // Writing to a Vec fails only for a string or vector longer than
    // u32::MAX bytes, which no node would accept anyway.
    borsh::to_vec(value).expect("transaction fields fit Borsh's u32 lengths")
}

/// Removes an `ed25519:` prefix; any other curve is refused.
pub(crate) fn strip_curve(s: &str) -> Result<&str, KeyError> {
    match s.split_once(':') {
        None => Ok(s),
        Some(("ed25519", rest)) => Ok(rest),
        Some((curve, _)) => Err(KeyError::UnsupportedCurve {
            curve: curve.to_owned(),
        }),
    }
}

fn decode_base58_array<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], KeyError> {
    let bytes = bs58::decode(s)
        .into_vec()
        .map_err(|_| KeyError::Base58 { what })?;
    bytes.try_into().map_err(|bytes: Vec<u8>| KeyError::Length {
        what,
        expected: N,
        actual: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// near-api-js's `serialize and sign transfer tx` test (also in Trust
    /// Wallet's NEAR tests): key, block hash, bytes, signature and hash.
    const SECRET: &str = "ed25519:3hoMW1HvnRLSFCLZnvPzWeoGwtdHzke34B2cTHM8rhcbG3TbuLKtShTv3DvyejnXKXKBiV7YPkLeqUHN1ghnqpFv";
    const PUBLIC: &str = "ed25519:Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC";
    const BLOCK: &str = "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM";
    const TRANSFER_HEX: &str = "09000000746573742e6e65617200917b3d268d4b58f7fec1b150bd68d69be3ee5d4cc39855e341538465bb77860d01000000000000000d00000077686174657665722e6e6561720fa473fd26901df296be6adc4cc4df34d040efa2435224b6986910e630c2fef6010000000301000000000000000000000000000000";
    const TRANSFER_SIGNATURE_HEX: &str = "969a83332186ee9755e4839325525806e189a3d2d2bb4b4760e94443e97e1c4f22deeef0059a8e9713100eda6e19144da7e8a0ef7e539b20708ba1d8d021bd01";

    fn id(s: &str) -> AccountId {
        s.parse().unwrap()
    }

    fn transfer_tx() -> Transaction {
        Transaction {
            signer_id: id("test.near"),
            public_key: PUBLIC.parse().unwrap(),
            nonce: 1,
            receiver_id: id("whatever.near"),
            block_hash: BLOCK.parse().unwrap(),
            actions: vec![Action::transfer(1)],
        }
    }

    #[test]
    fn transfer_matches_near_api_js() {
        let tx = transfer_tx();
        assert_eq!(hex::encode(tx.to_borsh()), TRANSFER_HEX);
        assert_eq!(
            hex::encode(tx.hash().0),
            "eea6e680f3ea51a7f667e9a801d0bfadf66e03d41ed54975b3c6006351461b32"
        );
        assert_eq!(
            tx.hash().to_string(),
            "H4be6ioGzDeiGKork27na6Usw2Hzt4gNJfetJ7ag3LhP"
        );
        let decoded: Transaction = borsh::from_slice(&hex::decode(TRANSFER_HEX).unwrap()).unwrap();
        assert_eq!(decoded, tx);
    }

    #[test]
    fn signed_transfer_matches_near_api_js() {
        let signer = Signer::from_secret_key(id("test.near"), SECRET).unwrap();
        assert_eq!(signer.public_key(), PUBLIC);
        let signed = transfer_tx().sign(&signer);
        assert_eq!(hex::encode(signed.signature.0), TRANSFER_SIGNATURE_HEX);
        assert_eq!(
            STANDARD.encode(signed.signature.0),
            "lpqDMyGG7pdV5IOTJVJYBuGJo9LSu0tHYOlEQ+l+HE8i3u7wBZqOlxMQDtpuGRRNp+ig735TmyBwi6HY0CG9AQ=="
        );
        assert_eq!(
            hex::encode(signed.to_borsh()),
            format!("{TRANSFER_HEX}00{TRANSFER_SIGNATURE_HEX}")
        );
        assert!(signed.verify());
        assert_eq!(signed.hash(), signed.transaction.hash());
        let decoded = SignedTransaction::from_borsh(&signed.to_borsh()).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(
            STANDARD.decode(signed.to_base64()).unwrap(),
            signed.to_borsh()
        );
    }

    /// near-api-js's `serialize and sign multi-action tx`: every action we
    /// support, one hash.
    #[test]
    fn every_action_matches_near_api_js() {
        let signer = Signer::from_secret_key(
            id("test.near"),
            "ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw",
        )
        .unwrap();
        let public_key = signer.public_key_bytes();
        let tx = Transaction {
            signer_id: id("test.near"),
            public_key,
            nonce: 1,
            receiver_id: id("123"),
            block_hash: BLOCK.parse().unwrap(),
            actions: vec![
                Action::CreateAccount,
                Action::DeployContract {
                    code: vec![1, 2, 3],
                },
                Action::function_call("qqq", vec![1, 2, 3], 1000, 1_000_000),
                Action::transfer(123),
                Action::Stake {
                    stake: 1_000_000,
                    public_key,
                },
                Action::AddKey {
                    public_key,
                    access_key: AccessKey {
                        nonce: 0,
                        permission: AccessKeyPermission::FunctionCall {
                            allowance: None,
                            receiver_id: id("zzz"),
                            method_names: vec!["www".into()],
                        },
                    },
                },
                Action::DeleteKey { public_key },
                Action::DeleteAccount {
                    beneficiary_id: id("123"),
                },
            ],
        };
        assert_eq!(
            tx.hash().to_string(),
            "Fo3MJ9XzKjnKuDuQKhDAC6fra5H2UWawRejFSEpPNk3Y"
        );
        let bytes = tx.to_borsh();
        assert_eq!(borsh::from_slice::<Transaction>(&bytes).unwrap(), tx);
    }

    /// A function call laid out by hand from nearcore's layout (checked with
    /// Python's hashlib and `cryptography`).
    #[test]
    fn function_call_layout() {
        let signer = Signer::from_secret_key(id("alice.near"), SECRET).unwrap();
        let tx = Transaction {
            signer_id: id("alice.near"),
            public_key: signer.public_key_bytes(),
            nonce: 7,
            receiver_id: id("outlayer.near"),
            block_hash: BLOCK.parse().unwrap(),
            actions: vec![Action::function_call(
                "resolve_execution",
                br#"{"request_id":1}"#.to_vec(),
                30_000_000_000_000,
                1,
            )],
        };
        let expected = [
            "0a000000",             // signer_id: u32 length 10
            "616c6963652e6e656172", // "alice.near"
            "00",                   // key type ED25519
            "917b3d268d4b58f7fec1b150bd68d69be3ee5d4cc39855e341538465bb77860d", // public key
            "0700000000000000",     // nonce 7, u64 LE
            "0d000000",             // receiver_id: length 13
            "6f75746c617965722e6e656172", // "outlayer.near"
            "0fa473fd26901df296be6adc4cc4df34d040efa2435224b6986910e630c2fef6", // block hash
            "01000000",             // one action
            "02",                   // FunctionCall
            "11000000",             // method: length 17
            "7265736f6c76655f657865637574696f6e", // "resolve_execution"
            "10000000",             // args: 16 bytes
            "7b22726571756573745f6964223a317d", // {"request_id":1}
            "00e057eb481b0000",     // gas 30 Tgas, u64 LE
            "01000000000000000000000000000000", // deposit 1, u128 LE
        ]
        .concat();
        assert_eq!(hex::encode(tx.to_borsh()), expected);
        assert_eq!(
            tx.hash().to_string(),
            "3GMQewEsEm2YTU8oToQ4rmLHDUjaEjJw1TGyz7xXWxd1"
        );
        let signed = tx.sign(&signer);
        assert_eq!(
            hex::encode(signed.signature.0),
            "243c31a6e79b2c2da1c4df8a8e9583acf1ad4dc4e23c65f8855a94f49c32af86a17e7c1c39d6f46ab3745f48944d33b5ac7cb4eb3db8aada30594cb6299e3e0e"
        );
        assert!(signed.verify());
    }

    #[test]
    fn signatures_round_trip_through_ed25519_dalek() {
        use ed25519_dalek::Verifier as _;
        let signer = Signer::generate(id("worker.near")).unwrap();
        let tx = Transaction {
            signer_id: signer.account_id.clone(),
            public_key: signer.public_key_bytes(),
            nonce: 42,
            receiver_id: id("outlayer.near"),
            block_hash: CryptoHash([9; 32]),
            actions: vec![Action::function_call("m", b"{}".to_vec(), 1, 0)],
        };
        let signed = tx.sign(&signer);
        let key = ed25519_dalek::VerifyingKey::from_bytes(&signer.public_key_bytes().0).unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&signed.signature.0);
        key.verify(&signed.hash().0, &signature).unwrap();
        assert!(signed.verify());

        // Any change to the transaction, or another key, breaks it.
        let mut tampered = signed.clone();
        tampered.transaction.nonce += 1;
        assert!(!tampered.verify());
        let other = Signer::generate(id("worker.near")).unwrap();
        let mut wrong_key = signed.clone();
        wrong_key.transaction.public_key = other.public_key_bytes();
        assert!(!wrong_key.verify());
        let mut bad_signature = signed;
        bad_signature.signature.0[0] ^= 1;
        assert!(!bad_signature.verify());
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let bytes = hex::decode(TRANSFER_HEX).unwrap();
        // Truncated, trailing byte, unknown key type, unknown action.
        assert!(borsh::from_slice::<Transaction>(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(borsh::from_slice::<Transaction>(&longer).is_err());
        let mut secp = bytes.clone();
        secp[13] = 1;
        let err = borsh::from_slice::<Transaction>(&secp).unwrap_err();
        assert!(err.to_string().contains("unsupported key type 1"), "{err}");
        let mut action = bytes.clone();
        let at = action.len() - 17;
        action[at] = 9;
        let err = borsh::from_slice::<Transaction>(&action).unwrap_err();
        assert!(err.to_string().contains("unsupported action 9"), "{err}");
    }

    #[test]
    fn text_forms() {
        let key: PublicKey = PUBLIC.parse().unwrap();
        assert_eq!(key.to_string(), PUBLIC);
        assert_eq!(
            "Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC"
                .parse::<PublicKey>()
                .unwrap(),
            key
        );
        assert_eq!(
            serde_json::to_value(key).unwrap(),
            serde_json::json!(PUBLIC)
        );
        assert!(matches!(
            "secp256k1:abc".parse::<PublicKey>(),
            Err(KeyError::UnsupportedCurve { curve }) if curve == "secp256k1"
        ));
        assert!(matches!(
            "ed25519:abc".parse::<PublicKey>(),
            Err(KeyError::Length {
                expected: 32,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            "0OIl".parse::<CryptoHash>(),
            Err(KeyError::Base58 { what: "hash" })
        ));
        let hash: CryptoHash = BLOCK.parse().unwrap();
        assert_eq!(
            serde_json::from_value::<CryptoHash>(serde_json::json!(BLOCK)).unwrap(),
            hash
        );
        assert_eq!(format!("{hash:?}"), format!("CryptoHash({BLOCK})"));
        let call = Action::function_call("m", br#"{"a":1}"#.to_vec(), 5, 0);
        assert_eq!(
            format!("{call:?}"),
            r#"FunctionCall { method_name: "m", args: "{\"a\":1}", gas: 5, deposit: 0 }"#
        );
    }
}
