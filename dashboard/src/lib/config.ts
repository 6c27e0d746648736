// The dashboard's settings, fetched at start from `./config.json` next to
// the page (written by `outlayer dev`, or by whoever deploys the build).

export type Network = 'local' | 'testnet' | 'mainnet';

export interface DevAccount {
  account_id: string;
  public_key: string;
  private_key: string;
}

export interface Example {
  name: string;
  /** A code source exactly as `request_execution` takes it. */
  source: unknown;
}

export interface Config {
  network: Network;
  rpc_url: string;
  coordinator_url: string;
  contract_id: string;
  dev_accounts: DevAccount[];
  examples: Example[];
}

export class ConfigError extends Error {}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`config.json: "${name}" must be a non-empty string`);
  return value;
}

/** Checks the shape of a parsed config.json. */
export function parseConfig(raw: unknown): Config {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json must be a JSON object');
  const r = raw as Record<string, unknown>;
  const network = r.network;
  if (network !== 'local' && network !== 'testnet' && network !== 'mainnet') {
    throw new ConfigError('config.json: "network" must be "local", "testnet" or "mainnet"');
  }
  const devAccounts = Array.isArray(r.dev_accounts) ? (r.dev_accounts as DevAccount[]) : [];
  for (const a of devAccounts) {
    text(a.account_id, 'dev_accounts[].account_id');
    text(a.private_key, 'dev_accounts[].private_key');
  }
  const examples = Array.isArray(r.examples) ? (r.examples as Example[]) : [];
  return {
    network,
    rpc_url: text(r.rpc_url, 'rpc_url').replace(/\/+$/, ''),
    coordinator_url: text(r.coordinator_url, 'coordinator_url').replace(/\/+$/, ''),
    contract_id: text(r.contract_id, 'contract_id'),
    // Development keys are only ever used against the local chain.
    dev_accounts: network === 'local' ? devAccounts : [],
    examples,
  };
}

export async function loadConfig(url = './config.json'): Promise<Config> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new ConfigError(`config.json could not be fetched: ${String(e)}`);
  }
  if (!response.ok) throw new ConfigError(`config.json could not be fetched: HTTP ${response.status}`);
  let raw: unknown;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('config.json is not valid JSON');
  }
  return parseConfig(raw);
}
