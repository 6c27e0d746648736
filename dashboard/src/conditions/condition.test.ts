import { describe, expect, it } from 'vitest';

import {
  type AccessCondition,
  CONDITION_KINDS,
  accountIdError,
  conditionError,
  conditionProblem,
  describeCondition,
  emptyCondition,
  kindOf,
  u128Error,
} from './condition';

const P = 'invalid access condition: ';
const wl = (...accounts: string[]): AccessCondition => ({ Whitelist: { accounts } });
const and = (...conditions: AccessCondition[]): AccessCondition => ({ Logic: { operator: 'And', conditions } });
const not = (condition: AccessCondition): AccessCondition => ({ Not: { condition } });

/** `n` nested levels: Not(Not(…(AllowAll))) counts n conditions at depth n. */
function nested(n: number): AccessCondition {
  let c: AccessCondition = 'AllowAll';
  for (let i = 1; i < n; i++) c = not(c);
  return c;
}

describe('account ids (near-account-id 3 rules and messages)', () => {
  it.each(['ab', 'alice.near', 'a-b_c.d', '0x1', 'a'.repeat(64), 'alice.test.near'])('accepts %s', (id) => {
    expect(accountIdError(id)).toBeNull();
  });
  it.each([
    ['a', 'the Account ID is too short'],
    ['', 'the Account ID is too short'],
    ['a'.repeat(65), 'the Account ID is too long'],
    ['Alice.near', "the Account ID contains an invalid character 'A' at index 0"],
    ['al ice', "the Account ID contains an invalid character ' ' at index 2"],
    ['.alice', "the Account ID has a redundant separator '.' at index 0"],
    ['alice..near', "the Account ID has a redundant separator '.' at index 6"],
    ['alice-_near', "the Account ID has a redundant separator '_' at index 6"],
    ['alice.', "the Account ID has a redundant separator '.' at index 5"],
    ['élan', "the Account ID contains an invalid character 'é' at index 0"],
  ])('refuses %j: %s', (id, message) => {
    expect(accountIdError(id)).toBe(message);
  });
});

describe('U128 values', () => {
  it('accepts 0 and 2^128 - 1, refuses 2^128, decimals, signs and empty', () => {
    expect(u128Error('0')).toBeNull();
    expect(u128Error('340282366920938463463374607431768211455')).toBeNull();
    expect(u128Error('340282366920938463463374607431768211456')).toBe('is larger than 2^128 - 1');
    expect(u128Error('+5')).toBeNull(); // Rust's u128::from_str takes a leading +
    for (const bad of ['', '1.5', '-1', '1e3', ' 1', '0x10']) {
      expect(u128Error(bad)).toBe('must be a whole number (decimal digits)');
    }
  });
});

describe('AccessCondition::validate, rule by rule', () => {
  it('accepts every kind in its simplest valid form', () => {
    const valid: AccessCondition[] = [
      'AllowAll',
      wl('alice.near'),
      { AccountPattern: { pattern: '.*\\.near' } },
      { NearBalance: { operator: 'Gte', value: '1000000000000000000000000' } },
      { FtBalance: { contract: 'usdc.near', operator: 'Gt', value: '0' } },
      { NftOwned: { contract: 'nft.near', token_id: null } },
      { NftOwned: { contract: 'nft.near', token_id: '1' } },
      { Logic: { operator: 'Or', conditions: ['AllowAll'] } },
      not(wl('bob.near')),
    ];
    for (const c of valid) expect(conditionError(c)).toBeNull();
  });

  it('Whitelist needs at least one account, each a valid account id', () => {
    expect(conditionError(wl())).toBe(P + 'Whitelist needs at least one account');
    expect(conditionError(wl('alice.near', 'Bob'))).toBe(
      `Whitelist account "Bob": the Account ID contains an invalid character 'B' at index 0`,
    );
  });

  it('at most 256 accounts across all whitelists of a tree', () => {
    const names = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}.near`);
    expect(conditionError(wl(...names(256, 'a')))).toBeNull();
    expect(conditionError(wl(...names(257, 'a')))).toBe(P + 'access condition lists more than 256 accounts');
    expect(conditionError(and(wl(...names(200, 'a')), wl(...names(56, 'b'))))).toBeNull();
    expect(conditionError(and(wl(...names(200, 'a')), wl(...names(57, 'b'))))).toBe(
      P + 'access condition lists more than 256 accounts',
    );
  });

  it('AccountPattern is 1-256 bytes', () => {
    const pattern = (p: string): AccessCondition => ({ AccountPattern: { pattern: p } });
    expect(conditionError(pattern(''))).toBe(P + 'AccountPattern pattern must be 1-256 bytes');
    expect(conditionError(pattern('a'.repeat(256)))).toBeNull();
    expect(conditionError(pattern('a'.repeat(257)))).toBe(P + 'AccountPattern pattern must be 1-256 bytes');
    expect(conditionError(pattern('é'.repeat(128)))).toBeNull();
    expect(conditionError(pattern('é'.repeat(128) + 'a'))).toBe(P + 'AccountPattern pattern must be 1-256 bytes');
  });

  it('NearBalance and FtBalance values are U128, the FT contract an account id', () => {
    expect(conditionError({ NearBalance: { operator: 'Lt', value: '1.5' } })).toBe(
      'NearBalance value must be a whole number (decimal digits)',
    );
    expect(conditionError({ FtBalance: { contract: 'X', operator: 'Eq', value: '1' } })).toBe(
      `FtBalance contract "X": the Account ID is too short`,
    );
    expect(conditionError({ FtBalance: { contract: 'ft.near', operator: 'Ne', value: (1n << 128n).toString() } })).toBe(
      'FtBalance value is larger than 2^128 - 1',
    );
  });

  it('NftOwned token_id, when given, is 1-256 bytes; the contract an account id', () => {
    const nft = (token_id: string | null, contract = 'nft.near'): AccessCondition => ({ NftOwned: { contract, token_id } });
    expect(conditionError(nft(''))).toBe(P + 'NftOwned token_id must be 1-256 bytes');
    expect(conditionError(nft('t'.repeat(256)))).toBeNull();
    expect(conditionError(nft('t'.repeat(257)))).toBe(P + 'NftOwned token_id must be 1-256 bytes');
    expect(conditionError(nft(null, 'nft..near'))).toBe(
      `NftOwned contract "nft..near": the Account ID has a redundant separator '.' at index 4`,
    );
  });

  it('Logic needs at least one condition', () => {
    expect(conditionError(and())).toBe(P + 'Logic needs at least one condition');
    expect(conditionError(not(and()))).toBe(P + 'Logic needs at least one condition');
  });

  it('nesting: depth 8 is accepted, 9 is refused', () => {
    expect(conditionError(nested(8))).toBeNull();
    expect(conditionError(nested(9))).toBe(P + 'access condition nested deeper than 8');
    expect(conditionProblem(nested(9))!.path).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('size: 64 conditions are accepted, 65 refused (every node counts)', () => {
    const leaves = (n: number) => Array.from({ length: n }, (): AccessCondition => 'AllowAll');
    expect(conditionError(and(...leaves(63)))).toBeNull();
    expect(conditionError(and(...leaves(64)))).toBe(P + 'access condition has more than 64 conditions');
    expect(conditionProblem(and(...leaves(64)))!.path).toEqual([63]);
  });

  it('deserialisation problems come before validation, anywhere in the tree', () => {
    // An empty Logic (validation) before a bad account (deserialisation): the contract reports the account.
    expect(conditionError(and(and(), wl('BAD')))).toBe(
      `Whitelist account "BAD": the Account ID contains an invalid character 'B' at index 0`,
    );
    expect(conditionProblem(and(and(), wl('BAD')))!.path).toEqual([1]);
  });

  it('validation stops at the first problem in document order', () => {
    expect(conditionProblem(and('AllowAll', wl(), and()))).toEqual({
      path: [1],
      message: P + 'Whitelist needs at least one account',
    });
  });
});

describe('the builder model', () => {
  it('makes an empty condition of every kind and knows its kind', () => {
    for (const kind of CONDITION_KINDS) expect(kindOf(emptyCondition(kind))).toBe(kind);
  });

  it('serialises as the contract reads it (serde, externally tagged)', () => {
    const c: AccessCondition = {
      Logic: {
        operator: 'Or',
        conditions: [wl('alice.near'), not({ NftOwned: { contract: 'nft.near', token_id: null } })],
      },
    };
    expect(JSON.stringify(c)).toBe(
      '{"Logic":{"operator":"Or","conditions":[{"Whitelist":{"accounts":["alice.near"]}},{"Not":{"condition":{"NftOwned":{"contract":"nft.near","token_id":null}}}}]}}',
    );
    expect(JSON.stringify('AllowAll')).toBe('"AllowAll"');
    expect(describeCondition(c)).toBe('(one of alice.near) or (not (owns an NFT of nft.near))');
  });
});
