//! Access conditions evaluated for a request's caller against live chain
//! state. Fail closed: a chain error, an exhausted read budget or a malformed
//! condition denies, and never turns into an allow (not even under `Not`).

use std::time::{Duration, Instant};

use outlayer_near_client::{BlockReference, NearRpc};
use outlayer_types::{AccessCondition, AccountId, LogicOperator, U128};
use regex::RegexBuilder;
use serde_json::{Value, json};

/// Bounds on one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct CheckLimits {
    /// Chain reads (view calls) one evaluation may make.
    pub max_reads: u32,
    /// Wall-clock budget for the whole evaluation.
    pub deadline: Duration,
}

impl Default for CheckLimits {
    fn default() -> Self {
        Self {
            max_reads: 16,
            deadline: Duration::from_secs(10),
        }
    }
}

/// Nesting and size bounds, checked before any chain read.
const MAX_DEPTH: usize = 8;
const MAX_NODES: usize = 64;
const MAX_PATTERN_LEN: usize = 256;
/// Compiled-program bound for account patterns (bytes), against patterns
/// that compile into huge automata.
const PATTERN_SIZE_LIMIT: usize = 1 << 18;

/// Why access is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The condition was evaluated and does not hold; names the failing part.
    NotMet(String),
    /// Chain state could not be read (node unreachable or failing, budget
    /// exhausted): asking again later may succeed.
    Chain(String),
    /// The chain answered, but not in a way the condition can be judged by
    /// (the caller's account is missing, a token contract's view panicked).
    Unverifiable { condition: String, reason: String },
    /// The condition is malformed or too large.
    Invalid(String),
}

/// Evaluates `condition` for `caller`; `Ok(())` means access is granted.
pub async fn check(
    condition: &AccessCondition,
    caller: &AccountId,
    chain: &NearRpc,
    limits: CheckLimits,
) -> Result<(), Denial> {
    validate(condition, 0, &mut 0)?;
    // Refuse up front what could exceed the budget, so the answer does not
    // depend on which branch happens to short-circuit today.
    let reads = chain_reads(condition);
    if reads > limits.max_reads as usize {
        return Err(Denial::Invalid(format!(
            "the condition may need {reads} chain reads; the keystore allows {}",
            limits.max_reads
        )));
    }
    let mut eval = Evaluator {
        caller,
        chain,
        reads_left: limits.max_reads,
        deadline: Instant::now() + limits.deadline,
    };
    match eval.eval(condition).await? {
        Outcome::Holds => Ok(()),
        Outcome::Fails(why) => Err(Denial::NotMet(why)),
    }
}

/// A short, secret-free name for a condition, used in denials.
pub fn describe(condition: &AccessCondition) -> String {
    match condition {
        AccessCondition::AllowAll => "AllowAll".into(),
        AccessCondition::Whitelist { accounts } => {
            format!("Whitelist ({} accounts)", accounts.len())
        }
        AccessCondition::AccountPattern { pattern } => format!("AccountPattern {pattern:?}"),
        AccessCondition::NearBalance { operator, value } => {
            format!("NearBalance {operator:?} {value}")
        }
        AccessCondition::FtBalance {
            contract,
            operator,
            value,
        } => format!("FtBalance {contract} {operator:?} {value}"),
        AccessCondition::NftOwned {
            contract,
            token_id: Some(token),
        } => format!("NftOwned {contract} token {token:?}"),
        AccessCondition::NftOwned {
            contract,
            token_id: None,
        } => format!("NftOwned {contract} (any token)"),
        AccessCondition::Logic {
            operator,
            conditions,
        } => {
            let parts: Vec<String> = conditions.iter().map(describe).collect();
            format!("{operator:?}[{}]", parts.join(", "))
        }
        AccessCondition::Not { condition } => format!("Not[{}]", describe(condition)),
    }
}

fn validate(condition: &AccessCondition, depth: usize, nodes: &mut usize) -> Result<(), Denial> {
    *nodes += 1;
    if depth > MAX_DEPTH || *nodes > MAX_NODES {
        return Err(Denial::Invalid(format!(
            "conditions nest deeper than {MAX_DEPTH} or have more than {MAX_NODES} parts"
        )));
    }
    match condition {
        AccessCondition::AccountPattern { pattern } if pattern.len() > MAX_PATTERN_LEN => {
            Err(Denial::Invalid(format!(
                "account pattern longer than {MAX_PATTERN_LEN} characters"
            )))
        }
        AccessCondition::Logic { conditions, .. } if conditions.is_empty() => Err(Denial::Invalid(
            "a Logic condition needs at least one part".into(),
        )),
        AccessCondition::Logic { conditions, .. } => conditions
            .iter()
            .try_for_each(|c| validate(c, depth + 1, nodes)),
        AccessCondition::Not { condition } => validate(condition, depth + 1, nodes),
        _ => Ok(()),
    }
}

/// The most chain reads evaluating `condition` can take.
fn chain_reads(condition: &AccessCondition) -> usize {
    match condition {
        AccessCondition::AllowAll
        | AccessCondition::Whitelist { .. }
        | AccessCondition::AccountPattern { .. } => 0,
        AccessCondition::NearBalance { .. }
        | AccessCondition::FtBalance { .. }
        | AccessCondition::NftOwned { .. } => 1,
        AccessCondition::Logic { conditions, .. } => conditions.iter().map(chain_reads).sum(),
        AccessCondition::Not { condition } => chain_reads(condition),
    }
}

enum Outcome {
    Holds,
    /// Does not hold: which (sub)condition failed.
    Fails(String),
}

struct Evaluator<'a> {
    caller: &'a AccountId,
    chain: &'a NearRpc,
    reads_left: u32,
    deadline: Instant,
}

impl Evaluator<'_> {
    async fn eval(&mut self, condition: &AccessCondition) -> Result<Outcome, Denial> {
        let holds = match condition {
            AccessCondition::AllowAll => true,
            AccessCondition::Whitelist { accounts } => accounts.contains(self.caller),
            AccessCondition::AccountPattern { pattern } => {
                // Anchored: `.*\.alice\.near` must not match `x.alice.near.evil`.
                let regex = RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .build()
                    .map_err(|e| Denial::Invalid(format!("account pattern: {e}")))?;
                regex.is_match(self.caller.as_str())
            }
            AccessCondition::NearBalance { operator, value } => {
                let account = self
                    .read(condition, |chain, caller| async move {
                        chain
                            .view_account(&caller, &BlockReference::default())
                            .await
                    })
                    .await?;
                operator.compare(account.amount.0, value.0)
            }
            AccessCondition::FtBalance {
                contract,
                operator,
                value,
            } => {
                let args = json!({"account_id": self.caller});
                let balance: U128 = self
                    .view(condition, contract, "ft_balance_of", args)
                    .await?;
                operator.compare(balance.0, value.0)
            }
            AccessCondition::NftOwned {
                contract,
                token_id: Some(token_id),
            } => {
                let token: Value = self
                    .view(
                        condition,
                        contract,
                        "nft_token",
                        json!({"token_id": token_id}),
                    )
                    .await?;
                token.get("owner_id").and_then(Value::as_str) == Some(self.caller.as_str())
            }
            AccessCondition::NftOwned {
                contract,
                token_id: None,
            } => {
                let args = json!({"account_id": self.caller, "from_index": "0", "limit": 1});
                let tokens: Vec<Value> = self
                    .view(condition, contract, "nft_tokens_for_owner", args)
                    .await?;
                !tokens.is_empty()
            }
            AccessCondition::Logic {
                operator: LogicOperator::And,
                conditions,
            } => {
                // Short-circuit: the first part that fails is the reason.
                for part in conditions {
                    if let Outcome::Fails(why) = Box::pin(self.eval(part)).await? {
                        return Ok(Outcome::Fails(why));
                    }
                }
                true
            }
            AccessCondition::Logic {
                operator: LogicOperator::Or,
                conditions,
            } => {
                let mut failures = Vec::new();
                for part in conditions {
                    match Box::pin(self.eval(part)).await? {
                        Outcome::Holds => return Ok(Outcome::Holds),
                        Outcome::Fails(why) => failures.push(why),
                    }
                }
                return Ok(Outcome::Fails(format!(
                    "none of Or[{}]",
                    failures.join(", ")
                )));
            }
            AccessCondition::Not { condition } => {
                // `?` first: an error inside `Not` stays an error.
                matches!(Box::pin(self.eval(condition)).await?, Outcome::Fails(_))
            }
        };
        Ok(if holds {
            Outcome::Holds
        } else {
            Outcome::Fails(describe(condition))
        })
    }

    /// A JSON view call on `contract`, counted against the budget.
    async fn view<R: serde::de::DeserializeOwned>(
        &mut self,
        condition: &AccessCondition,
        contract: &AccountId,
        method: &'static str,
        args: Value,
    ) -> Result<R, Denial> {
        let contract = contract.clone();
        self.read(condition, |chain, _| async move {
            chain
                .view_call(&contract, method, &args, &BlockReference::default())
                .await
        })
        .await
    }

    /// One chain read within the read and time budgets.
    async fn read<T, F, Fut>(&mut self, condition: &AccessCondition, f: F) -> Result<T, Denial>
    where
        F: FnOnce(NearRpc, AccountId) -> Fut,
        Fut: Future<Output = outlayer_near_client::Result<T>>,
    {
        // Unreachable after the static count in `check`; kept so a future
        // condition kind cannot read without bound.
        if self.reads_left == 0 {
            return Err(Denial::Invalid(
                "the condition needs more chain reads than allowed".into(),
            ));
        }
        self.reads_left -= 1;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, f(self.chain.clone(), self.caller.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if e.is_unavailable() => Err(Denial::Chain(e.to_string())),
            Ok(Err(
                e @ (outlayer_near_client::Error::Rpc { .. }
                | outlayer_near_client::Error::UnknownBlock { .. }),
            )) => Err(Denial::Chain(e.to_string())),
            Ok(Err(e)) => Err(Denial::Unverifiable {
                condition: describe(condition),
                reason: e.to_string(),
            }),
            Err(_) => Err(Denial::Chain(
                "the access check ran out of time reading chain state".into(),
            )),
        }
    }
}
