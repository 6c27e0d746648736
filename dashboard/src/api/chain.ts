// The contract on chain: views through NEAR JSON-RPC at `final`, and
// transactions signed either with a development account's key (local
// network only) or by a wallet (testnet, mainnet).

import { JsonRpcProvider } from '@near-js/providers';
import { Account } from '@near-js/accounts';
import { KeyPairSigner } from '@near-js/signers';
import { actionCreators } from '@near-js/transactions';
import { baseEncode } from '@near-js/utils';
import type { KeyPairString } from '@near-js/crypto';
import type { FinalExecutionOutcome } from '@near-js/types';

import type { AccessCondition } from '../conditions/condition';
import type { Accessor } from '../crypto/accessor';
import type { DevAccount } from '../lib/config';
import { ServiceError, errorText, type ResourceMetrics } from './coordinator';

export interface ResourceLimits {
  max_instructions: number;
  max_memory_mb: number;
  max_execution_seconds: number;
}

export interface MaxLimits {
  max_instructions: number;
  max_memory_mb: number;
  max_execution_seconds: number;
  max_compile_seconds: number;
  max_input_bytes: number;
  max_output_bytes: number;
}

export interface Pricing {
  base_fee: string;
  per_million_instructions: string;
  per_execution_ms: string;
  per_compile_ms: string;
}

export interface ContractConfig {
  owner_id: string;
  operator_id: string;
  paused: boolean;
  pricing: Pricing;
  max_limits: MaxLimits;
  yield_timeout_blocks: number;
  stale_after_blocks: number;
  min_request_tgas: number;
  large_input_bytes: number;
  state_version: number;
}

export interface ContractStats {
  total_requests: number;
  pending_requests: number;
  succeeded: number;
  failed: number;
  timed_out: number;
  cancelled: number;
  total_charged: string;
  total_refunded: string;
  fees_withdrawn: string;
  unclaimed_refunds: string;
}

export interface ExecutionContext {
  request_id: number;
  sender_id: string;
  predecessor_id: string;
  contract_id: string;
  block_height: number;
  block_timestamp: number;
  transaction_hash?: string | null;
}

export interface ExecutionRequest {
  context: ExecutionContext;
  code_source: Record<string, Record<string, string>>;
  resource_limits: ResourceLimits;
  input_data?: string | null;
  input_in_state: boolean;
  secrets_ref?: { profile: string; account_id: string } | null;
  response_format: 'Text' | 'Json' | 'Bytes';
  payment: string;
  payer_account_id: string;
  max_compile_seconds?: number | null;
}

export interface RequestView {
  request: ExecutionRequest;
  resolved: boolean;
  output_submitted: boolean;
}

export interface SecretsSummary {
  accessor: Accessor;
  profile: string;
  owner: string;
  access: AccessCondition;
  storage_deposit: string;
  created_at: number;
  updated_at: number;
}

export interface SecretsRecord extends SecretsSummary {
  encrypted_secrets_base64: string;
}

export interface ExecutionCompleted {
  request_id: number;
  success: boolean;
  error?: string | null;
  resources_used: ResourceMetrics;
  charged: string;
  refunded: string;
}

/** Gas for `request_execution`, as the CLI attaches it: the contract needs 100 Tgas; the rest pays the callback. */
export const REQUEST_GAS = 150_000_000_000_000n;
export const SECRETS_GAS = 100_000_000_000_000n;

export class Chain {
  readonly provider: JsonRpcProvider;

  constructor(
    readonly rpcUrl: string,
    readonly contractId: string,
  ) {
    this.provider = new JsonRpcProvider({ url: rpcUrl }, { retries: 1, backoff: 1, wait: 200 });
  }

  /** A view of the contract at `final`. */
  async view<T>(method: string, args: Record<string, unknown> = {}): Promise<T> {
    let result: unknown;
    try {
      result = await this.provider.callFunction(this.contractId, method, args, { finality: 'final' });
    } catch (e) {
      throw chainError(e, this.rpcUrl, method);
    }
    return result as T;
  }

  config(): Promise<ContractConfig> {
    return this.view('get_config');
  }
  stats(): Promise<ContractStats> {
    return this.view('get_stats');
  }
  request(requestId: number): Promise<RequestView | null> {
    return this.view('get_request', { request_id: requestId });
  }
  pending(fromIndex = 0, limit = 100): Promise<RequestView[]> {
    return this.view('get_pending_requests', { from_index: fromIndex, limit });
  }
  async estimateExecution(limits: ResourceLimits, inputBytes: number): Promise<bigint> {
    const v = await this.view<string>('estimate_execution_cost', { resource_limits: limits, input_bytes: inputBytes });
    return BigInt(v);
  }
  listSecrets(accountId: string): Promise<SecretsSummary[]> {
    return this.view('list_user_secrets', { account_id: accountId, from_index: 0, limit: 100 });
  }
  getSecrets(accessor: Accessor, profile: string, owner: string): Promise<SecretsRecord | null> {
    return this.view('get_secrets', { accessor, profile, owner });
  }
  async estimateStorage(owner: string, accessor: Accessor, profile: string, blob: string, access: AccessCondition): Promise<bigint> {
    const v = await this.view<string>('estimate_storage_cost', {
      owner,
      accessor,
      profile,
      encrypted_secrets_base64: blob,
      access,
    });
    return BigInt(v);
  }

  async blockHeight(): Promise<number> {
    try {
      const block = await this.provider.viewBlock({ finality: 'final' });
      return block.header.height;
    } catch (e) {
      throw chainError(e, this.rpcUrl, 'block');
    }
  }

  /** The transaction's outcome so far (`INCLUDED_FINAL`) or once every receipt ran (`FINAL`); null while unknown. */
  async txStatus(hash: string, sender: string, waitUntil: 'INCLUDED_FINAL' | 'FINAL'): Promise<FinalExecutionOutcome | null> {
    try {
      return await this.provider.viewTransactionStatus(hash, sender, waitUntil);
    } catch (e) {
      const text = errorText(e);
      if (/doesn't exist|UNKNOWN_TRANSACTION|Timeout|TIMEOUT/i.test(text)) return null;
      throw chainError(e, this.rpcUrl, 'tx');
    }
  }
}

export function chainError(e: unknown, rpcUrl: string, what: string): ServiceError {
  const text = errorText(e);
  if (e instanceof TypeError || /fetch failed|Failed to fetch|NetworkError|ECONNREFUSED|exceeded .* retries/i.test(text)) {
    return new ServiceError('chain', 'unreachable', `The NEAR RPC at ${rpcUrl} is unreachable (${text}).`);
  }
  const message = contractMessage(text);
  return new ServiceError('chain', 'refused', message === text ? `${what}: ${text}` : message);
}

/** Rust's `{:?}` escapes undone for the common cases. */
function unescapeDebug(text: string): string {
  return text.replace(/\\(["\\])/g, '$1').replace(/\\n/g, '\n');
}

/**
 * The contract's own panic message out of an RPC error's text, when there
 * is one (`GuestPanic { panic_msg: "…" }` from views, `Smart contract
 * panicked: …` from transactions); else the text as is.
 */
export function contractMessage(text: string): string {
  const view = /panic_msg: "(.*)" \}/s.exec(text);
  if (view) return unescapeDebug(view[1]!);
  const call = /ExecutionError\("Smart contract panicked: (.*)"\)/s.exec(text);
  if (call) return unescapeDebug(call[1]!);
  const plain = /Smart contract panicked: (.*)$/s.exec(text);
  return plain ? plain[1]! : text;
}

/** The message of a transaction's `Failure` (its `ExecutionError`, without nearcore's prefix). */
export function failureMessage(failure: unknown): string {
  const find = (v: unknown): string | null => {
    if (typeof v !== 'object' || v === null) return null;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'ExecutionError' && typeof x === 'string') return x;
      const inner = find(x);
      if (inner) return inner;
    }
    return null;
  };
  const found = find(failure);
  if (found) return found.replace(/^Smart contract panicked: /, '');
  return JSON.stringify(failure);
}

/** What signs transactions: a development key, or a wallet. */
export interface TxSigner {
  readonly accountId: string;
  readonly kind: 'dev' | 'wallet';
  /** Signs and submits one function call; returns its hash without waiting for the outcome (dev keys), or after (wallets). */
  call(contractId: string, method: string, args: object, gas: bigint, deposit: bigint): Promise<string>;
}

export class DevKeySigner implements TxSigner {
  readonly kind = 'dev' as const;
  readonly accountId: string;
  private readonly account: Account;

  constructor(
    private readonly chain: Chain,
    dev: DevAccount,
  ) {
    this.accountId = dev.account_id;
    this.account = new Account(dev.account_id, chain.provider, KeyPairSigner.fromSecretKey(dev.private_key as KeyPairString));
  }

  async call(contractId: string, method: string, args: object, gas: bigint, deposit: bigint): Promise<string> {
    const action = actionCreators.functionCall(method, args, gas, deposit);
    try {
      const [hash, signed] = await this.account.signTransaction(contractId, [action]);
      await this.chain.provider.sendTransactionUntil(signed, 'NONE');
      return baseEncode(hash);
    } catch (e) {
      throw chainError(e, this.chain.rpcUrl, method);
    }
  }
}

const LOG_PREFIX = 'EVENT_JSON:';

interface Event {
  standard: string;
  event: string;
  data: unknown[];
}

export function outcomeEvents(outcome: FinalExecutionOutcome): Event[] {
  const events: Event[] = [];
  const all = [outcome.transaction_outcome, ...outcome.receipts_outcome];
  for (const o of all) {
    for (const line of o.outcome.logs) {
      if (!line.startsWith(LOG_PREFIX)) continue;
      try {
        const e = JSON.parse(line.slice(LOG_PREFIX.length)) as Event;
        if (e.standard === 'near-outlayer') events.push(e);
      } catch {
        // not ours
      }
    }
  }
  return events;
}

export interface TxProgress {
  requestId: number | null;
  requestBlock: number | null;
  completed: ExecutionCompleted | null;
  /** The callback's return value (the output), when the transaction is final. */
  value: unknown;
  /** A failure of the transaction itself (the contract refused the request). */
  failure: string | null;
  settledInBlock: string | null;
}

export function txProgress(outcome: FinalExecutionOutcome, final: boolean): TxProgress {
  let requestId: number | null = null;
  let requestBlock: number | null = null;
  let completed: ExecutionCompleted | null = null;
  for (const e of outcomeEvents(outcome)) {
    if (e.event === 'execution_requested') {
      const r = e.data[0] as ExecutionRequest | undefined;
      if (r) {
        requestId = r.context.request_id;
        requestBlock = r.context.block_height;
      }
    } else if (e.event === 'execution_completed') {
      completed = (e.data[0] as ExecutionCompleted | undefined) ?? null;
    }
  }
  const status = outcome.status as { SuccessValue?: string; Failure?: unknown } | string;
  let value: unknown = undefined;
  let failure: string | null = null;
  if (typeof status === 'object' && status !== null) {
    if (final && typeof status.SuccessValue === 'string') {
      const raw = status.SuccessValue === '' ? '' : new TextDecoder().decode(Uint8Array.from(atob(status.SuccessValue), (c) => c.charCodeAt(0)));
      try {
        value = raw === '' ? null : JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    if (status.Failure) failure = failureMessage(status.Failure);
  }
  const settled = outcome.receipts_outcome.find((o) => o.outcome.logs.some((l) => l.includes('"execution_completed"')));
  return {
    requestId,
    requestBlock,
    completed,
    value,
    failure,
    settledInBlock: settled ? (settled as unknown as { block_hash: string }).block_hash : null,
  };
}
