import { useEffect, useRef, useState } from 'preact/hooks';

import { useServices } from '../app';
import { REQUEST_GAS, txProgress, type ExecutionCompleted, type ResourceLimits } from '../api/chain';
import { errorText, type JobInfo } from '../api/coordinator';
import { ErrorBox } from '../components/common';
import { byteLength } from '../crypto/accessor';
import { formatCount, formatMs, formatNear } from '../lib/format';
import { estimateParts, inputStorageCost, successCharge } from '../lib/pricing';
import type { ContractConfig } from '../api/chain';
import { rememberSent } from '../lib/sent';
import { codeSourceError, describeSource, exampleScriptSource, secretsAccessors, sourceView } from '../lib/source';
import { describeAccessor } from '../crypto/accessor';
import { MAX_INLINE_SCRIPT_BYTES, SCRIPT_EXAMPLES, inlineCodeBytes, jsonStringLength, scriptHash, storageBytes } from '../lib/script';
import { profileNameError } from '../lib/validation';
import { accountIdError } from '../conditions/condition';
import { useAsync } from '../components/common';

type Phase = 'idle' | 'signing' | 'submitted' | 'requested' | 'building' | 'running' | 'resolved' | 'settled' | 'refused';

const PHASES: Array<{ phase: Phase; label: string }> = [
  { phase: 'submitted', label: 'Submitted' },
  { phase: 'requested', label: 'Requested on chain' },
  { phase: 'building', label: 'Building' },
  { phase: 'running', label: 'Running' },
  { phase: 'resolved', label: 'Resolved' },
  { phase: 'settled', label: 'Settled' },
];

interface Run {
  phase: Phase;
  /** JavaScript, inline or a file from a repository: nothing to build. */
  script: 'inline' | 'file' | null;
  format: string;
  limits: ResourceLimits;
  txHash?: string;
  requestId?: number;
  requestBlock?: number;
  deposit: bigint;
  completed?: ExecutionCompleted;
  output?: unknown;
  failure?: string;
  jobs: JobInfo[];
  error?: unknown;
}

const DEFAULT_LIMITS: ResourceLimits = { max_instructions: 1_000_000_000, max_memory_mb: 128, max_execution_seconds: 60 };

export function Playground() {
  const { config, chain, coordinator, signer } = useServices();
  // A config example's index, 'js' (inline JavaScript, edited below), 'gitjs'
  // (a JavaScript file in a repository, its fields below) or 'custom' (JSON).
  const [exampleIndex, setExampleIndex] = useState(config.examples.length ? '0' : 'js');
  const [sourceText, setSourceText] = useState(
    JSON.stringify(config.examples[0]?.source ?? { GitHub: { repo: '', commit: 'main', build_target: 'wasm32-wasip1' } }, null, 2),
  );
  const [scriptExample, setScriptExample] = useState('0');
  const [scriptText, setScriptText] = useState(SCRIPT_EXAMPLES[0]?.code ?? '');
  const inlineJs = exampleIndex === 'js';
  // Prefilled with examples/js/hello.js from the local example repository when the config offers it.
  const [gitScript, setGitScript] = useState(() => {
    const example = exampleScriptSource(config.examples);
    return example && 'GitScript' in example ? example.GitScript : { repo: '', commit: 'main', path: '' };
  });
  const fileJs = exampleIndex === 'gitjs';
  const [input, setInput] = useState('');
  const [format, setFormat] = useState<'Text' | 'Json' | 'Bytes'>('Text');
  const [limits, setLimits] = useState(DEFAULT_LIMITS);
  const [profile, setProfile] = useState('');
  const [secretsOwner, setSecretsOwner] = useState('');
  const [estimate, setEstimate] = useState<{ value?: bigint; error?: string }>({});
  const [run, setRun] = useState<Run | null>(null);
  const stopped = useRef(false);
  useEffect(() => () => void (stopped.current = true), []);

  let source: unknown = null;
  let sourceError: string | null = null;
  if (inlineJs) {
    source = { JavaScript: { code: scriptText } };
    sourceError = codeSourceError(source);
  } else if (fileJs) {
    source = { GitScript: { repo: gitScript.repo, commit: gitScript.commit, path: gitScript.path } };
    sourceError = codeSourceError(source);
  } else {
    try {
      source = JSON.parse(sourceText);
      sourceError = codeSourceError(source);
    } catch (e) {
      sourceError = `The source is not JSON: ${errorText(e)}`;
    }
  }

  const inputBytes = byteLength(input);
  // Inline code stays in contract state with the request, paid like input.
  const codeBytes = inlineCodeBytes(source);
  const storedBytes = storageBytes(input, source);
  useEffect(() => {
    let current = true;
    chain.estimateExecution(limits, storedBytes).then(
      (value) => current && setEstimate({ value }),
      (e: unknown) => current && setEstimate({ error: errorText(e) }),
    );
    return () => void (current = false);
  }, [chain, limits, storedBytes]);
  // What request_execution would refuse, checked here first.
  const contractConfig = useAsync(() => chain.config(), [chain]);
  const problems: string[] = [];
  const maxInput = contractConfig.data?.max_limits.max_input_bytes;
  if (maxInput !== undefined && inputBytes > maxInput) problems.push(`input_data is ${inputBytes} bytes, above the cap ${maxInput}`);
  if (contractConfig.data?.paused) problems.push('contract is paused: new requests are refused');
  if (profile.trim()) {
    const p = profileNameError(profile.trim());
    if (p) problems.push(`invalid secrets_ref: ${p}`);
    const owner = secretsOwner.trim();
    const o = owner ? accountIdError(owner) : null;
    if (o) problems.push(`secrets stored by ${JSON.stringify(owner)}: ${o}`);
  }

  const busy = run !== null && run.phase !== 'settled' && run.phase !== 'refused' && run.error === undefined;

  async function send() {
    if (!signer || estimate.value === undefined || sourceError) return;
    const deposit = estimate.value;
    const args = {
      code_source: source,
      resource_limits: limits,
      input_data: input,
      secrets_ref: profile.trim() ? { profile: profile.trim(), account_id: secretsOwner.trim() || signer.accountId } : null,
      response_format: format,
    };
    const variant = sourceView(source).variant;
    const script = variant === 'JavaScript' ? 'inline' : variant === 'GitScript' ? 'file' : null;
    let state: Run = { phase: 'signing', script, format, limits, deposit, jobs: [] };
    const update = (patch: Partial<Run>) => {
      state = { ...state, ...patch };
      if (!stopped.current) setRun(state);
    };
    update({});
    try {
      const txHash = await signer.call(chain.contractId, 'request_execution', args, REQUEST_GAS, deposit);
      update({ phase: 'submitted', txHash });
      const sender = signer.accountId;
      for (;;) {
        if (stopped.current) return;
        const outcome = await chain.txStatus(txHash, sender, 'INCLUDED_FINAL');
        if (outcome) {
          const final = outcome.final_execution_status === 'FINAL';
          const p = txProgress(outcome, final);
          if (p.failure) {
            update({ phase: 'refused', failure: p.failure });
            return;
          }
          if (p.requestId !== null && state.requestId === undefined) {
            update({ phase: 'requested', requestId: p.requestId, requestBlock: p.requestBlock ?? undefined });
            rememberSent({
              request_id: p.requestId,
              tx_hash: txHash,
              sender,
              sent_at_ms: Date.now(),
              code_source: args.code_source,
              resource_limits: args.resource_limits,
              secrets_ref: args.secrets_ref,
              deposit: deposit.toString(),
            });
          }
          if (p.completed && final) {
            update({ phase: 'settled', completed: p.completed, output: p.value });
            return;
          }
        }
        if (state.requestId !== undefined) {
          const [jobs, view] = await Promise.all([
            coordinator.jobs({ request_id: state.requestId, limit: 10 }).then((j) => j.jobs, () => state.jobs),
            chain.request(state.requestId).catch(() => undefined),
          ]);
          let phase: Phase = state.phase;
          if (jobs.some((j) => j.job_type === 'compile' && j.state !== 'completed' && j.state !== 'failed')) phase = 'building';
          if (jobs.some((j) => j.job_type === 'execute')) phase = 'running';
          if (view?.resolved) phase = 'resolved';
          update({ jobs, phase });
        }
        await new Promise((r) => setTimeout(r, 400));
      }
    } catch (e) {
      update({ error: e });
    }
  }

  const phases = run?.script ? PHASES.filter((p) => p.phase !== 'building') : PHASES;
  const phaseIndex = run ? phases.findIndex((p) => p.phase === run.phase) : -1;

  return (
    <>
      <h1>Playground</h1>
      {!signer && (
        <p class="note" role="status">
          {config.network === 'local' ? 'No development account to sign with.' : 'Connect a wallet (top right) to send requests.'}
        </p>
      )}
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <fieldset>
          <legend>Program</legend>
          <label>
            Source
            <select
              id="pg-source"
              value={exampleIndex}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setExampleIndex(v);
                const example = config.examples[Number(v)];
                if (v !== 'custom' && v !== 'js' && v !== 'gitjs' && example) setSourceText(JSON.stringify(example.source, null, 2));
              }}
            >
              {config.examples.map((ex, i) => (
                <option key={ex.name} value={String(i)}>
                  {ex.name}
                </option>
              ))}
              <option value="js">JavaScript (inline)</option>
              <option value="gitjs">JavaScript file in a repository</option>
              <option value="custom">Custom source</option>
            </select>
          </label>
          {inlineJs ? (
            <>
              <label>
                Example script
                <select
                  id="pg-js-example"
                  value={scriptExample}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    setScriptExample(v);
                    const example = SCRIPT_EXAMPLES[Number(v)];
                    if (v !== 'own' && example) setScriptText(example.code);
                  }}
                >
                  {SCRIPT_EXAMPLES.map((ex, i) => (
                    <option key={ex.name} value={String(i)}>
                      {ex.name}
                    </option>
                  ))}
                  <option value="own">Your own script</option>
                </select>
              </label>
              <label>
                JavaScript code (sent inline, run on QuickJS; at most {MAX_INLINE_SCRIPT_BYTES} bytes as a JSON string)
                <textarea
                  id="pg-js"
                  rows={14}
                  class="mono code"
                  spellcheck={false}
                  autoComplete="off"
                  value={scriptText}
                  onInput={(e) => {
                    setScriptText(e.currentTarget.value);
                    setScriptExample('own');
                  }}
                  aria-invalid={sourceError ? 'true' : undefined}
                  aria-describedby="source-help js-api-help"
                />
              </label>
              <p id="js-api-help" class="help">
                <code>outlayer.input()</code>, <code>outlayer.inputJson()</code>, <code>outlayer.output(value)</code> (strings as they are, anything
                else as JSON), <code>console.log</code>/<code>console.error</code>, <code>process.env</code> (secrets), <code>fetch</code>;{' '}
                <code>Math.random</code> and <code>Date</code> are fixed per request.
              </p>
              <p id="source-help" class={sourceError ? 'field-error' : 'help'} data-testid="source-status">
                {sourceError ?? (
                  <>
                    JavaScript (inline): <span data-testid="script-size">{jsonStringLength(scriptText)}</span> of {MAX_INLINE_SCRIPT_BYTES} bytes as a
                    JSON string, {codeBytes} bytes kept with the request; SHA-256 <code data-testid="script-hash">{scriptHash(scriptText)}</code> (secrets
                    bound to this hash are readable by it)
                  </>
                )}
              </p>
            </>
          ) : fileJs ? (
            <>
              <label>
                Repository
                <input
                  id="pg-gs-repo"
                  class="mono"
                  value={gitScript.repo}
                  onInput={(e) => setGitScript({ ...gitScript, repo: e.currentTarget.value })}
                  placeholder="github.com/owner/name"
                  spellcheck={false}
                  autoComplete="off"
                  aria-invalid={sourceError ? 'true' : undefined}
                  aria-describedby="source-help"
                />
              </label>
              <label>
                Commit, branch or tag
                <input
                  id="pg-gs-commit"
                  class="mono"
                  value={gitScript.commit}
                  onInput={(e) => setGitScript({ ...gitScript, commit: e.currentTarget.value })}
                  placeholder="main"
                  spellcheck={false}
                  autoComplete="off"
                  aria-invalid={sourceError ? 'true' : undefined}
                  aria-describedby="source-help"
                />
              </label>
              <label>
                Path of the script (.js or .mjs, from the repository root)
                <input
                  id="pg-gs-path"
                  class="mono"
                  value={gitScript.path}
                  onInput={(e) => setGitScript({ ...gitScript, path: e.currentTarget.value })}
                  placeholder="examples/js/hello.js"
                  spellcheck={false}
                  autoComplete="off"
                  aria-invalid={sourceError ? 'true' : undefined}
                  aria-describedby="source-help"
                />
              </label>
              <p id="source-help" class={sourceError ? 'field-error' : 'help'} data-testid="source-status">
                {sourceError ?? (
                  <>
                    {describeSource(source)}: read from the repository and run on QuickJS, nothing is built; secrets bound to{' '}
                    {secretsAccessors(source)
                      .map((a) => describeAccessor(a))
                      .join(', then ')}{' '}
                    are readable by it
                  </>
                )}
              </p>
            </>
          ) : (
            <>
              <label>
                Code source (JSON, as request_execution takes it)
                <textarea
                  id="pg-code"
                  rows={7}
                  class="mono"
                  value={sourceText}
                  onInput={(e) => {
                    setSourceText(e.currentTarget.value);
                    setExampleIndex('custom');
                  }}
                  aria-invalid={sourceError ? 'true' : undefined}
                  aria-describedby="source-help"
                />
              </label>
              <p id="source-help" class={sourceError ? 'field-error' : 'help'} data-testid="source-status">
                {sourceError ?? describeSource(source)}
              </p>
            </>
          )}
          <label>
            Input (stdin)
            <textarea id="pg-input" rows={3} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
          </label>
          <label>
            Response format
            <select id="pg-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as 'Text' | 'Json' | 'Bytes')}>
              <option>Text</option>
              <option>Json</option>
              <option>Bytes</option>
            </select>
          </label>
        </fieldset>
        <fieldset>
          <legend>Limits</legend>
          <div class="row">
            <NumberField label="Instructions" value={limits.max_instructions} onChange={(v) => setLimits({ ...limits, max_instructions: v })} />
            <NumberField label="Memory (MiB)" value={limits.max_memory_mb} onChange={(v) => setLimits({ ...limits, max_memory_mb: v })} />
            <NumberField label="Seconds" value={limits.max_execution_seconds} onChange={(v) => setLimits({ ...limits, max_execution_seconds: v })} />
          </div>
        </fieldset>
        <fieldset>
          <legend>Secrets (optional)</legend>
          <div class="row">
            <label>
              Profile
              <input id="pg-profile" value={profile} onInput={(e) => setProfile(e.currentTarget.value)} placeholder="default" />
            </label>
            <label>
              Stored by
              <input id="pg-owner" value={secretsOwner} onInput={(e) => setSecretsOwner(e.currentTarget.value)} placeholder={signer?.accountId ?? ''} />
            </label>
          </div>
        </fieldset>
        <p class="estimate" aria-live="polite" data-testid="estimate">
          {estimate.error ? (
            <span class="field-error">Estimate refused: {estimate.error}</span>
          ) : estimate.value !== undefined ? (
            <>
              Deposit (worst case, the unused part is refunded): <strong>{formatNear(estimate.value)}</strong>
              {contractConfig.data && (
                <EstimateParts config={contractConfig.data} limits={limits} inputBytes={inputBytes} codeBytes={codeBytes} total={estimate.value} />
              )}
            </>
          ) : (
            'Estimating…'
          )}
        </p>
        {problems.length > 0 && (
          <ul class="field-error" role="alert" data-testid="problems">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <button type="submit" disabled={!signer || busy || estimate.value === undefined || sourceError !== null || problems.length > 0}>
          {busy ? 'Running…' : `Send request${signer ? ` as ${signer.accountId}` : ''}`}
        </button>
      </form>
      {run && (
        <section aria-labelledby="run-h" class="run">
          <h2 id="run-h">
            {run.requestId !== undefined ? (
              <>
                Request <a href={`#/executions/${run.requestId}`}>#{run.requestId}</a>
              </>
            ) : (
              'Request'
            )}
          </h2>
          <ol class="steps" aria-label="Progress">
            {phases.map((p, i) => (
              <li key={p.phase} class={i < phaseIndex ? 'done' : i === phaseIndex ? 'current' : ''} aria-current={i === phaseIndex ? 'step' : undefined}>
                {p.label}
              </li>
            ))}
          </ol>
          <p role="status" data-testid="run-phase">
            {run.phase}
          </p>
          {run.txHash && (
            <p>
              Transaction <code>{run.txHash}</code>
              {run.requestBlock !== undefined && <> · block {run.requestBlock}</>}
            </p>
          )}
          {run.error !== undefined && <ErrorBox error={run.error} />}
          {run.failure && (
            <div class="error" role="alert">
              <strong>The contract refused the request</strong>
              <p>{run.failure}</p>
            </div>
          )}
          {run.completed && (
            <Settlement
              deposit={run.deposit}
              completed={run.completed}
              output={run.output}
              format={run.format}
              config={contractConfig.data}
              limits={run.limits}
              script={run.script}
            />
          )}
        </section>
      )}
    </>
  );
}

function Settlement({
  deposit,
  completed,
  output,
  format,
  config,
  limits,
  script,
}: {
  deposit: bigint;
  completed: ExecutionCompleted;
  output: unknown;
  format: string;
  config: ContractConfig | undefined;
  limits: ResourceLimits;
  script: 'inline' | 'file' | null;
}) {
  const used = completed.resources_used;
  // The charge split into its parts, when the current prices explain it.
  const split =
    config && completed.success ? successCharge(config.pricing, limits, config.max_limits.max_compile_seconds, used, deposit) : null;
  const explained = split !== null && split.charged === BigInt(completed.charged);
  return (
    <dl class="kv" data-testid="settlement">
      <dt>Result</dt>
      <dd data-testid="result">{completed.success ? 'success' : 'failed'}</dd>
      {completed.success ? (
        <>
          <dt>Output{format === 'Bytes' ? ' (base64)' : ''}</dt>
          <dd>
            <pre class="mono" data-testid="output">
              {typeof output === 'string' ? output : JSON.stringify(output, null, 2)}
            </pre>
          </dd>
        </>
      ) : (
        <>
          <dt>Error</dt>
          <dd data-testid="failure">{completed.error}</dd>
        </>
      )}
      <dt>Used</dt>
      <dd>
        {formatCount(used.instructions)} instructions, {formatMs(used.time_ms)} running, build{' '}
        {used.compile_time_ms != null ? formatMs(used.compile_time_ms) : script === 'inline' ? 'none (inline JavaScript)' : script === 'file' ? 'none (JavaScript file)' : 'none (cached)'}
      </dd>
      <dt>Paid</dt>
      <dd data-testid="paid">{formatNear(deposit)}</dd>
      <dt>Charged</dt>
      <dd>
        <span data-testid="charged">{formatNear(completed.charged)}</span>
        {explained && (
          <span class="help" data-testid="charge-parts">
            {' '}
            = base {formatNear(split.parts.base)} + instructions {formatNear(split.parts.instructions)} + run time{' '}
            {formatNear(split.parts.execution)} + build {formatNear(split.parts.build)}
          </span>
        )}
        {!completed.success && config && BigInt(completed.charged) === BigInt(config.pricing.base_fee) && (
          <span class="help"> = the base fee (a failure)</span>
        )}
      </dd>
      <dt>Refunded</dt>
      <dd data-testid="refunded">{formatNear(completed.refunded)}</dd>
    </dl>
  );
}

function NumberField({ label, value, onChange }: { label: string; value: number; onChange: (v: number) => void }) {
  return (
    <label>
      {label}
      <input
        type="number"
        min={0}
        step={1}
        value={value}
        onInput={(e) => {
          const v = Number(e.currentTarget.value);
          if (Number.isSafeInteger(v) && v >= 0) onChange(v);
        }}
      />
    </label>
  );
}

function EstimateParts({
  config,
  limits,
  inputBytes,
  codeBytes,
  total,
}: {
  config: ContractConfig;
  limits: ResourceLimits;
  inputBytes: number;
  codeBytes: number;
  total: bigint;
}) {
  const parts = estimateParts(config.pricing, limits, config.max_limits.max_compile_seconds);
  const storage = inputStorageCost(inputBytes + codeBytes);
  // Shown only when it adds up to what the contract asked for.
  if (parts.total + storage !== total) return null;
  return (
    <span class="help" data-testid="estimate-parts">
      {' '}
      = base {formatNear(parts.base)} + {formatCount(limits.max_instructions)} instructions {formatNear(parts.instructions)} + {limits.max_execution_seconds} s{' '}
      {formatNear(parts.execution)} + build up to {config.max_limits.max_compile_seconds} s {formatNear(parts.build)} +{' '}
      {codeBytes > 0 ? `storage of the input and code (${inputBytes} + ${codeBytes} bytes)` : 'input storage'} {formatNear(storage)}
    </span>
  );
}
