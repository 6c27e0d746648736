// Access conditions as the contract stores them (outlayer_types::AccessCondition,
// serde's externally tagged JSON) and the contract's checks, in its order:
// first what deserialising the arguments refuses (account ids, U128
// amounts), then `AccessCondition::validate` (crates/types/src/validation.rs).

import { byteLength, debugString } from '../crypto/accessor';

export type ComparisonOperator = 'Gte' | 'Lte' | 'Gt' | 'Lt' | 'Eq' | 'Ne';
export type LogicOperator = 'And' | 'Or';

export type AccessCondition =
  | 'AllowAll'
  | { Whitelist: { accounts: string[] } }
  | { AccountPattern: { pattern: string } }
  | { NearBalance: { operator: ComparisonOperator; value: string } }
  | { FtBalance: { contract: string; operator: ComparisonOperator; value: string } }
  | { NftOwned: { contract: string; token_id: string | null } }
  | { Logic: { operator: LogicOperator; conditions: AccessCondition[] } }
  | { Not: { condition: AccessCondition } };

export type ConditionKind =
  | 'AllowAll'
  | 'Whitelist'
  | 'AccountPattern'
  | 'NearBalance'
  | 'FtBalance'
  | 'NftOwned'
  | 'Logic'
  | 'Not';

export const CONDITION_KINDS: ConditionKind[] = [
  'AllowAll',
  'Whitelist',
  'AccountPattern',
  'NearBalance',
  'FtBalance',
  'NftOwned',
  'Logic',
  'Not',
];
export const COMPARISON_OPERATORS: ComparisonOperator[] = ['Gte', 'Lte', 'Gt', 'Lt', 'Eq', 'Ne'];
export const COMPARISON_SYMBOLS: Record<ComparisonOperator, string> = {
  Gte: '≥',
  Lte: '≤',
  Gt: '>',
  Lt: '<',
  Eq: '=',
  Ne: '≠',
};

/** AccessCondition::MAX_DEPTH, MAX_CONDITIONS, MAX_ACCOUNTS, MAX_TEXT_LEN. */
export const MAX_DEPTH = 8;
export const MAX_CONDITIONS = 64;
export const MAX_ACCOUNTS = 256;
export const MAX_TEXT_LEN = 256;

export const U128_MAX = (1n << 128n) - 1n;

export function kindOf(condition: AccessCondition): ConditionKind {
  return condition === 'AllowAll' ? 'AllowAll' : (Object.keys(condition)[0] as ConditionKind);
}

/** A fresh condition of a kind, for the builder. */
export function emptyCondition(kind: ConditionKind): AccessCondition {
  switch (kind) {
    case 'AllowAll':
      return 'AllowAll';
    case 'Whitelist':
      return { Whitelist: { accounts: [] } };
    case 'AccountPattern':
      return { AccountPattern: { pattern: '' } };
    case 'NearBalance':
      return { NearBalance: { operator: 'Gte', value: '0' } };
    case 'FtBalance':
      return { FtBalance: { contract: '', operator: 'Gte', value: '0' } };
    case 'NftOwned':
      return { NftOwned: { contract: '', token_id: null } };
    case 'Logic':
      return { Logic: { operator: 'And', conditions: [] } };
    case 'Not':
      return { Not: { condition: 'AllowAll' } };
  }
}

/**
 * near-account-id's `validate`: 2-64 bytes of `[a-z0-9]` separated by single
 * `-`, `_` or `.`, not starting or ending with one. Null when valid, else
 * near-account-id's message.
 */
export function accountIdError(id: string): string | null {
  const len = byteLength(id);
  if (len < 2) return 'the Account ID is too short';
  if (len > 64) return 'the Account ID is too long';
  let lastWasSeparator = true;
  let index = 0;
  let last = '';
  for (const c of id) {
    last = c;
    let separator: boolean;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) separator = false;
    else if (c === '-' || c === '_' || c === '.') separator = true;
    else return `the Account ID contains an invalid character ${debugChar(c)} at index ${index}`;
    if (separator && lastWasSeparator) {
      return `the Account ID has a redundant separator ${debugChar(c)} at index ${index}`;
    }
    lastWasSeparator = separator;
    index++;
  }
  if (lastWasSeparator) return `the Account ID has a redundant separator ${debugChar(last)} at index ${index - 1}`;
  return null;
}

function debugChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '\\') return "'\\\\'";
  if (c === ' ') return "' '";
  return `'${c}'`;
}

/** near-sdk's U128 from JSON: a decimal string that fits in u128. */
export function u128Error(value: string): string | null {
  if (!/^\+?[0-9]+$/.test(value)) return 'must be a whole number (decimal digits)';
  if (BigInt(value) > U128_MAX) return 'is larger than 2^128 - 1';
  return null;
}

/** Where a problem is, for the builder: a path of child indexes from the root. */
export interface ConditionProblem {
  path: number[];
  message: string;
}

/**
 * What the contract would refuse in this condition: the first problem in
 * the contract's order (deserialisation of the whole tree first, then
 * validation), or null when `store_secrets` accepts it.
 */
export function conditionProblem(condition: AccessCondition): ConditionProblem | null {
  return deserializeProblem(condition, []) ?? validateProblem(condition);
}

/** The message the contract panics with (`validate` errors are prefixed as in `check_access`). */
export function conditionError(condition: AccessCondition): string | null {
  const problem = conditionProblem(condition);
  return problem ? problem.message : null;
}

function deserializeProblem(condition: AccessCondition, path: number[]): ConditionProblem | null {
  const at = (message: string) => ({ path, message });
  if (condition === 'AllowAll') return null;
  if ('Whitelist' in condition) {
    for (const account of condition.Whitelist.accounts) {
      const e = accountIdError(account);
      if (e) return at(`Whitelist account ${debugString(account)}: ${e}`);
    }
    return null;
  }
  if ('AccountPattern' in condition) return null;
  if ('NearBalance' in condition) {
    const e = u128Error(condition.NearBalance.value);
    return e ? at(`NearBalance value ${e}`) : null;
  }
  if ('FtBalance' in condition) {
    const c = accountIdError(condition.FtBalance.contract);
    if (c) return at(`FtBalance contract ${debugString(condition.FtBalance.contract)}: ${c}`);
    const e = u128Error(condition.FtBalance.value);
    return e ? at(`FtBalance value ${e}`) : null;
  }
  if ('NftOwned' in condition) {
    const c = accountIdError(condition.NftOwned.contract);
    return c ? at(`NftOwned contract ${debugString(condition.NftOwned.contract)}: ${c}`) : null;
  }
  if ('Logic' in condition) {
    const list = condition.Logic.conditions;
    for (let i = 0; i < list.length; i++) {
      const p = deserializeProblem(list[i]!, [...path, i]);
      if (p) return p;
    }
    return null;
  }
  return deserializeProblem(condition.Not.condition, [...path, 0]);
}

function validateProblem(root: AccessCondition): ConditionProblem | null {
  const totals = { conditions: 0, accounts: 0 };
  const textOk = (s: string) => s.length > 0 && byteLength(s) <= MAX_TEXT_LEN;
  const prefix = 'invalid access condition: ';
  const walk = (condition: AccessCondition, depth: number, path: number[]): ConditionProblem | null => {
    const at = (message: string) => ({ path, message: prefix + message });
    if (depth > MAX_DEPTH) return at(`access condition nested deeper than ${MAX_DEPTH}`);
    totals.conditions += 1;
    if (totals.conditions > MAX_CONDITIONS) return at(`access condition has more than ${MAX_CONDITIONS} conditions`);
    if (condition === 'AllowAll' || 'NearBalance' in condition || 'FtBalance' in condition) return null;
    if ('Whitelist' in condition) {
      const list = condition.Whitelist.accounts;
      if (list.length === 0) return at('Whitelist needs at least one account');
      totals.accounts += list.length;
      if (totals.accounts > MAX_ACCOUNTS) return at(`access condition lists more than ${MAX_ACCOUNTS} accounts`);
      return null;
    }
    if ('AccountPattern' in condition) {
      return textOk(condition.AccountPattern.pattern) ? null : at(`AccountPattern pattern must be 1-${MAX_TEXT_LEN} bytes`);
    }
    if ('NftOwned' in condition) {
      const token = condition.NftOwned.token_id;
      return token !== null && !textOk(token) ? at(`NftOwned token_id must be 1-${MAX_TEXT_LEN} bytes`) : null;
    }
    if ('Logic' in condition) {
      const list = condition.Logic.conditions;
      if (list.length === 0) return at('Logic needs at least one condition');
      for (let i = 0; i < list.length; i++) {
        const p = walk(list[i]!, depth + 1, [...path, i]);
        if (p) return p;
      }
      return null;
    }
    return walk(condition.Not.condition, depth + 1, [...path, 0]);
  };
  return walk(root, 1, []);
}

/** One line for people, e.g. `alice.near or bob.near`, `NEAR balance ≥ 1 NEAR`. */
export function describeCondition(condition: AccessCondition): string {
  if (condition === 'AllowAll') return 'anyone';
  if ('Whitelist' in condition) return `one of ${condition.Whitelist.accounts.join(', ')}`;
  if ('AccountPattern' in condition) return `account matches /${condition.AccountPattern.pattern}/`;
  if ('NearBalance' in condition) {
    const { operator, value } = condition.NearBalance;
    return `NEAR balance ${COMPARISON_SYMBOLS[operator]} ${value} yoctoNEAR`;
  }
  if ('FtBalance' in condition) {
    const { contract, operator, value } = condition.FtBalance;
    return `${contract} balance ${COMPARISON_SYMBOLS[operator]} ${value}`;
  }
  if ('NftOwned' in condition) {
    const { contract, token_id } = condition.NftOwned;
    return token_id === null ? `owns an NFT of ${contract}` : `owns NFT ${token_id} of ${contract}`;
  }
  if ('Logic' in condition) {
    const joiner = condition.Logic.operator === 'And' ? ' and ' : ' or ';
    return condition.Logic.conditions.map((c) => `(${describeCondition(c)})`).join(joiner);
  }
  return `not (${describeCondition(condition.Not.condition)})`;
}
