// The coordinator's public API (crates/coordinator/src/api/public.rs; shapes
// from outlayer_types::coordinator). No token; the dashboard only reads,
// except POST /secrets/pubkey, which never sees a plaintext.

import type { Accessor } from '../crypto/accessor';

export type JobType = 'compile' | 'execute';
export type JobState = 'pending' | 'claimed' | 'completed' | 'failed';
export type ErrorCategory =
  | 'compilation_failed'
  | 'execution_failed'
  | 'access_denied'
  | 'insufficient_payment'
  | 'infrastructure';
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'disabled';

export interface ResourceMetrics {
  instructions: number;
  time_ms: number;
  compile_time_ms?: number | null;
}

export interface CoordinatorStats {
  requests_total: number;
  requests_completed: number;
  requests_failed: number;
  jobs: { pending: number; claimed: number; completed: number; failed: number };
  workers_active: number;
  artifacts: number;
  artifact_bytes: number;
  /** Sums over finished jobs (absent from coordinators before request views). */
  instructions_total?: number;
  execution_ms_total?: number;
  compile_ms_total?: number;
  /** Failed requests by category. */
  failures_by_category?: Record<ErrorCategory, number>;
}

export interface JobInfo {
  job_id: number;
  request_id: number;
  job_type: JobType;
  state: JobState;
  attempt: number;
  worker_id?: string | null;
  error_category?: ErrorCategory | null;
  error?: string | null;
  output_summary?: string | null;
  metrics?: ResourceMetrics | null;
  actual_cost?: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  /** When the current or last claim took it; null while it waits. */
  claimed_at_ms?: number | null;
  /** When it completed or failed. */
  finished_at_ms?: number | null;
}

export interface JobsPage {
  jobs: JobInfo[];
  next_offset?: number | null;
}

export interface WorkerInfo {
  worker_id: string;
  token_name: string;
  status: 'idle' | 'busy' | 'draining';
  capabilities: JobType[];
  version?: string | null;
  last_seen_ms: number;
  active: boolean;
  /** All-time counts (absent from coordinators before request views). */
  jobs_completed?: number;
  jobs_failed?: number;
  /** The request id of the job it holds now. */
  current_job?: number | null;
}

export type RequestStatus = 'compiling' | 'executing' | 'completed' | 'failed';

/** One request as GET /public/requests lists it (outlayer_types::coordinator::RequestSummary). */
export interface RequestSummary {
  request_id: number;
  status: RequestStatus;
  sender_id: string;
  payer_account_id: string;
  code_source: unknown;
  artifact_checksum: string;
  resource_limits: { max_instructions: number; max_memory_mb: number; max_execution_seconds: number };
  max_compile_seconds?: number | null;
  response_format: 'Text' | 'Json' | 'Bytes';
  secrets_ref?: { profile: string; account_id: string } | null;
  payment: string;
  block_height: number;
  block_timestamp: number;
  transaction_hash?: string | null;
  error_category?: ErrorCategory | null;
  error?: string | null;
  metrics?: ResourceMetrics | null;
  actual_cost?: string | null;
  /** When the coordinator first heard of it. */
  created_at_ms: number;
  updated_at_ms: number;
  /**
   * The contract's verdict once a monitor reported the settlement; null
   * until then (absent from coordinators before it). `status` stays the
   * jobs' view: a settled request is still `completed` or `failed` there.
   */
  settled_success?: boolean | null;
  /** When the coordinator recorded the settlement (its clock, as created_at_ms). */
  settled_at_ms?: number | null;
}

export interface RequestsPage {
  requests: RequestSummary[];
  next_offset?: number | null;
}

export interface RequestTimeline {
  requested: { block_height: number; block_timestamp: number; transaction_hash?: string | null };
  build?: {
    state?: JobState | null;
    claimed_at_ms?: number | null;
    finished_at_ms?: number | null;
    worker_id?: string | null;
    cached?: boolean | null;
  } | null;
  run?: { state: JobState; claimed_at_ms?: number | null; finished_at_ms?: number | null; worker_id?: string | null } | null;
  resolve?: { tx_hash: string; submitted_at_ms: number } | null;
  settled?: { block_height: number; success: boolean; charged: string; refunded: string } | null;
}

/** GET /public/requests/{id}: the summary, its jobs, timeline and build summary. */
export interface RequestDetail extends RequestSummary {
  jobs: JobInfo[];
  timeline: RequestTimeline;
  build_log_summary?: string | null;
}

/** The `settled` filter: settled or not, or settled with that verdict. */
export type SettledQuery = 'true' | 'false' | 'success' | 'failure';

export interface RequestsQuery {
  account?: string;
  status?: RequestStatus;
  settled?: SettledQuery;
  source?: string;
  limit?: number;
  offset?: number;
}

export interface HealthCheck {
  status: HealthStatus;
  detail: string;
}

export interface HealthReport {
  status: HealthStatus;
  store: HealthCheck;
  queue: HealthCheck;
  keystore: HealthCheck;
  workers: HealthCheck;
  monitor: HealthCheck;
}

/** Why a call to a service did not give an answer. */
export class ServiceError extends Error {
  constructor(
    readonly service: 'coordinator' | 'chain',
    readonly kind: 'unreachable' | 'refused',
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

export class Coordinator {
  constructor(readonly baseUrl: string) {}

  private async call<T>(path: string, init?: RequestInit, alsoOk: number[] = []): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw new ServiceError('coordinator', 'unreachable', `The coordinator at ${this.baseUrl} is unreachable (${errorText(e)}).`);
    }
    const body = await response.text();
    let json: unknown;
    try {
      json = body === '' ? null : JSON.parse(body);
    } catch {
      throw new ServiceError('coordinator', 'refused', `The coordinator answered ${response.status} with a body that is not JSON.`);
    }
    if (!response.ok && !alsoOk.includes(response.status)) {
      const e = json as { error?: string; message?: string } | null;
      throw new ServiceError(
        'coordinator',
        'refused',
        `The coordinator refused ${path}: ${e?.message || e?.error || `HTTP ${response.status}`}`,
        e?.error,
      );
    }
    return json as T;
  }

  health(): Promise<HealthReport> {
    // An unhealthy coordinator answers 503 with the report.
    return this.call('/health/detailed', undefined, [503]);
  }

  stats(): Promise<CoordinatorStats> {
    return this.call('/public/stats');
  }

  jobs(query: { state?: JobState; job_type?: JobType; request_id?: number; limit?: number; offset?: number } = {}): Promise<JobsPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.call(`/public/jobs${qs ? '?' + qs : ''}`);
  }

  workers(): Promise<WorkerInfo[]> {
    return this.call('/public/workers');
  }

  /** Requests, newest first; `account` is the sender or payer exactly, `source` a substring. */
  requests(query: RequestsQuery = {}): Promise<RequestsPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.call(`/public/requests${qs ? '?' + qs : ''}`);
  }

  /** One request with its jobs and timeline; null when the coordinator does not know it. */
  async request(id: number): Promise<RequestDetail | null> {
    // A 404 answers {error: "not_found"}; a request has its id (and an `error` field of its own).
    const answer = await this.call<RequestDetail | { error: string; request_id?: undefined }>(`/public/requests/${id}`, undefined, [404]);
    return answer.request_id === undefined ? null : answer;
  }

  /** The keystore's public key for secrets of `owner` bound to `accessor`. */
  async pubkey(accessor: Accessor, owner: string): Promise<string> {
    const answer = await this.call<{ pubkey: string }>('/secrets/pubkey', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessor, owner }),
    });
    return answer.pubkey;
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
