// Requests sent from this browser (the playground): their transaction is
// what tells the settlement (charge, refund, output), so it is kept here.

export interface SentRequest {
  request_id: number;
  tx_hash: string;
  sender: string;
  sent_at_ms: number;
  /** What was asked, as sent (the chain forgets a request once settled). */
  code_source?: unknown;
  resource_limits?: { max_instructions: number; max_memory_mb: number; max_execution_seconds: number };
  secrets_ref?: { profile: string; account_id: string } | null;
  deposit?: string;
}

const KEY = 'outlayer.sent.v1';

export function sentRequests(): SentRequest[] {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? (raw as SentRequest[]) : [];
  } catch {
    return [];
  }
}

export function rememberSent(r: SentRequest): void {
  const list = sentRequests().filter((s) => !(s.request_id === r.request_id && s.tx_hash === r.tx_hash));
  list.unshift(r);
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, 200)));
}

export function findSent(requestId: number, contractScope?: string): SentRequest | undefined {
  void contractScope;
  return sentRequests().find((s) => s.request_id === requestId);
}
