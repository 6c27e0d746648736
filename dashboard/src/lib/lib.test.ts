import { describe, expect, it } from 'vitest';
import type { FinalExecutionOutcome } from '@near-js/types';

import { contractMessage, failureMessage, txProgress } from '../api/chain';
import type { JobInfo } from '../api/coordinator';
import { statusOf } from '../pages/Executions';
import { ConfigError, parseConfig } from './config';
import { describeSource, sourceRepo } from './source';
import { profileNameError } from './validation';

const base = {
  network: 'local',
  rpc_url: 'http://127.0.0.1:3030/',
  coordinator_url: 'http://127.0.0.1:8080',
  contract_id: 'outlayer.test.near',
  dev_accounts: [{ account_id: 'alice.test.near', public_key: 'ed25519:x', private_key: 'ed25519:y' }],
  examples: [{ name: 'echo', source: { GitHub: { repo: 'a/b', commit: 'main', build_target: 'wasm32-wasip1' } } }],
};

describe('config.json', () => {
  it('is read as written, trailing slashes dropped', () => {
    const c = parseConfig(base);
    expect(c.rpc_url).toBe('http://127.0.0.1:3030');
    expect(c.dev_accounts).toHaveLength(1);
    expect(c.examples[0]!.name).toBe('echo');
  });
  it('never uses development keys off the local network', () => {
    expect(parseConfig({ ...base, network: 'testnet' }).dev_accounts).toEqual([]);
    expect(parseConfig({ ...base, network: 'mainnet' }).dev_accounts).toEqual([]);
  });
  it('refuses a malformed config with a message naming the field', () => {
    expect(() => parseConfig({ ...base, network: 'devnet' })).toThrow('"network" must be "local", "testnet" or "mainnet"');
    expect(() => parseConfig({ ...base, rpc_url: '' })).toThrow('"rpc_url" must be a non-empty string');
    expect(() => parseConfig(null)).toThrow(ConfigError);
  });
});

const job = (over: Partial<JobInfo>): JobInfo => ({
  job_id: 1,
  request_id: 7,
  job_type: 'compile',
  state: 'pending',
  attempt: 1,
  created_at_ms: 0,
  updated_at_ms: 0,
  ...over,
});

describe('a request status from its jobs', () => {
  it('follows compile → execute → completed, and any failure fails it', () => {
    expect(statusOf([])).toBe('pending');
    expect(statusOf([job({ state: 'claimed' })])).toBe('compiling');
    expect(statusOf([job({ state: 'completed' }), job({ job_type: 'execute', state: 'claimed' })])).toBe('executing');
    expect(statusOf([job({ state: 'completed' }), job({ job_type: 'execute', state: 'completed' })])).toBe('completed');
    expect(statusOf([job({ state: 'failed' })])).toBe('failed');
    expect(statusOf([job({ job_type: 'execute', state: 'failed' })])).toBe('failed');
  });
});

function outcome(logs: string[][], status: object, final = true): FinalExecutionOutcome {
  const receipt = (l: string[], i: number) => ({ id: `r${i}`, block_hash: `b${i}`, outcome: { logs: l, receipt_ids: [], status: {} } });
  return {
    final_execution_status: final ? 'FINAL' : 'INCLUDED_FINAL',
    status,
    transaction: {},
    transaction_outcome: { id: 'tx', outcome: { logs: [], receipt_ids: [], status: {} } },
    receipts_outcome: logs.map(receipt),
  } as unknown as FinalExecutionOutcome;
}

describe('a request transaction read for its progress', () => {
  const requested =
    'EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_requested","data":[{"context":{"request_id":12,"block_height":345}}]}';
  const completed =
    'EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{"request_id":12,"success":true,"resources_used":{"instructions":5,"time_ms":1},"charged":"1000","refunded":"19000"}]}';

  it('finds the request id when included, the settlement and output when final', () => {
    const partial = txProgress(outcome([[requested]], {}, false), false);
    expect(partial).toMatchObject({ requestId: 12, requestBlock: 345, completed: null, failure: null });
    const value = btoa(JSON.stringify({ ok: 'yes' }));
    const done = txProgress(outcome([[requested], [], [completed, 'other log']], { SuccessValue: value }), true);
    expect(done.completed).toEqual({
      request_id: 12,
      success: true,
      resources_used: { instructions: 5, time_ms: 1 },
      charged: '1000',
      refunded: '19000',
    });
    expect(done.value).toEqual({ ok: 'yes' });
    expect(done.settledInBlock).toBe('b2');
  });

  it('ignores other standards and reads a refused request as a failure with the contract message', () => {
    const other = 'EVENT_JSON:{"standard":"nep141","version":"1.0.0","event":"ft_transfer","data":[{}]}';
    const failure = {
      Failure: { ActionError: { kind: { FunctionCallError: { ExecutionError: 'Smart contract panicked: contract is paused: new requests are refused' } } } },
    };
    const p = txProgress(outcome([[other]], failure), true);
    expect(p.requestId).toBeNull();
    expect(p.failure).toBe('contract is paused: new requests are refused');
  });

  it('takes the panic message out of an RPC error', () => {
    expect(contractMessage('wasm execution failed with error: FunctionCallError(ExecutionError("Smart contract panicked: invalid resource_limits: x"))')).toBe(
      'invalid resource_limits: x',
    );
    expect(contractMessage('plain')).toBe('plain');
    expect(
      contractMessage(
        '[-32000] Server error: wasm execution failed with error: FunctionCallError(HostError(GuestPanic { panic_msg: "invalid secrets_ref: profile name \\"a.b\\" must be 1-64 characters" }))',
      ),
    ).toBe('invalid secrets_ref: profile name "a.b" must be 1-64 characters');
    expect(failureMessage({ ActionError: { index: 0, kind: { FunctionCallError: { ExecutionError: 'Smart contract panicked: no secrets profile "x" of a.near' } } } })).toBe(
      'no secrets profile "x" of a.near',
    );
  });
});

describe('sources and profile names', () => {
  it('describes sources in one line', () => {
    expect(describeSource({ GitPackage: { repo: 'file:///r', commit: 'a'.repeat(40), path: 'examples/echo', build_target: 'wasm32-wasip1' } })).toBe(
      'file:///r @ aaaaaaaaaaaa : examples/echo',
    );
    expect(describeSource({ WasmUrl: { url: 'https://x/a.wasm', hash: 'b'.repeat(64), build_target: 'wasm32-wasip1' } })).toBe(
      'https://x/a.wasm (sha256 bbbbbbbbbbbb)',
    );
    expect(sourceRepo({ GitHub: { repo: 'a/b', commit: 'main' } })).toBe('a/b');
    expect(sourceRepo({ WasmUrl: { url: 'u' } })).toBeNull();
  });
  it('profile names are 1-64 of [A-Za-z0-9_-]', () => {
    expect(profileNameError('default')).toBeNull();
    expect(profileNameError('a'.repeat(64))).toBeNull();
    expect(profileNameError('a'.repeat(65))).toBe(`profile name "${'a'.repeat(65)}" must be 1-64 characters of [A-Za-z0-9_-]`);
    expect(profileNameError('')).toBe('profile name "" must be 1-64 characters of [A-Za-z0-9_-]');
    expect(profileNameError('a.b')).toBe('profile name "a.b" must be 1-64 characters of [A-Za-z0-9_-]');
  });
});
