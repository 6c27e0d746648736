import { useState } from 'preact/hooks';

import { useServices } from '../app';
import { SECRETS_GAS, failureMessage, type Chain, type SecretsSummary, type TxSigner } from '../api/chain';
import { ServiceError, errorText } from '../api/coordinator';
import { ConditionBuilder } from '../components/ConditionBuilder';
import { Show, useAsync } from '../components/common';
import { type AccessCondition, conditionError, describeCondition } from '../conditions/condition';
import { type Accessor, describeAccessor, normalizeAccessor } from '../crypto/accessor';
import { profileNameError } from '../lib/validation';
import { encryptSecrets, secretNameError, secretsPlaintext } from '../crypto/secrets';
import { formatNear, formatTime } from '../lib/format';
import { sourceRepo } from '../lib/source';
import { hasLoneSurrogate, scriptAccessor, scriptCodeError } from '../lib/script';


/** Waits until a transaction's receipts have all run; throws the contract's message when it failed. */
async function settle(chain: Chain, signer: TxSigner, hash: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const outcome = await chain.txStatus(hash, signer.accountId, 'FINAL');
    if (outcome) {
      const failure = [outcome.status, ...outcome.receipts_outcome.map((r) => r.outcome.status)].find(
        (s) => typeof s === 'object' && s !== null && 'Failure' in s,
      ) as { Failure: unknown } | undefined;
      if (failure) throw new ServiceError('chain', 'refused', `The contract refused: ${failureMessage(failure.Failure)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`transaction ${hash} did not finish in time`);
}

interface Pair {
  name: string;
  value: string;
}

export function Secrets() {
  const { config, chain, coordinator, signer } = useServices();
  const owner = signer?.accountId ?? null;
  const list = useAsync(() => (owner ? chain.listSecrets(owner) : Promise.resolve([])), [chain, owner]);
  const defaultRepo = sourceRepo(config.examples[0]?.source) ?? '';

  const [kind, setKind] = useState<'repo' | 'wasm' | 'js'>('repo');
  const [repo, setRepo] = useState(defaultRepo);
  const [branch, setBranch] = useState('');
  const [hash, setHash] = useState('');
  const [jsCode, setJsCode] = useState('');
  const [profile, setProfile] = useState('default');
  const [pairs, setPairs] = useState<Pair[]>([{ name: '', value: '' }]);
  const [access, setAccess] = useState<AccessCondition>('AllowAll');
  const [status, setStatus] = useState<{ kind: 'info' | 'error' | 'ok'; text: string } | null>(null);
  const [working, setWorking] = useState(false);

  let accessor: Accessor | null = null;
  let accessorError: string | null = null;
  if (kind === 'js') {
    // Inline code reads the secrets bound to the SHA-256 of its UTF-8 bytes,
    // hashed here: the code itself is never sent anywhere by this form.
    const codeError = hasLoneSurrogate(jsCode) ? 'the code is not valid Unicode (it holds a lone surrogate)' : scriptCodeError(jsCode);
    if (codeError) accessorError = jsCode === '' ? 'Paste the script, exactly as it will be sent.' : `this script could not be sent inline: ${codeError}`;
    else accessor = scriptAccessor(jsCode);
  } else {
    try {
      accessor = normalizeAccessor(kind === 'repo' ? { Repo: { repo, branch: branch === '' ? null : branch } } : { WasmHash: { hash } });
    } catch (e) {
      accessorError = `invalid accessor: ${errorText(e)}`;
    }
  }
  const profileError = profileNameError(profile);
  // Rows left entirely empty are not secrets.
  const filled = pairs.filter((p) => p.name !== '' || p.value !== '').map((p): [string, string] => [p.name, p.value]);
  let secretsError: string | null = filled.length === 0 ? 'Add at least one secret.' : null;
  if (!secretsError) {
    try {
      secretsPlaintext(filled);
    } catch (e) {
      secretsError = errorText(e);
    }
  }
  const accessError = conditionError(access);
  const ready = owner && accessor && !profileError && !secretsError && !accessError;

  async function store() {
    if (!signer || !accessor || !ready) return;
    setWorking(true);
    try {
      setStatus({ kind: 'info', text: 'Fetching the keystore public key…' });
      const pubkey = await coordinator.pubkey(accessor, signer.accountId);
      // Encrypted here: the plaintext never leaves the browser.
      const blob = encryptSecrets(pubkey, filled);
      const required = await chain.estimateStorage(signer.accountId, accessor, profile, blob, access);
      const existing = (list.data ?? []).find((s) => sameAccessor(s.accessor, accessor!) && s.profile === profile);
      const held = existing ? BigInt(existing.storage_deposit) : 0n;
      const deposit = required - held > 1n ? required - held : 1n;
      setStatus({ kind: 'info', text: `Storing with a deposit of ${formatNear(deposit)}…` });
      const tx = await signer.call(chain.contractId, 'store_secrets', { accessor, profile, encrypted_secrets_base64: blob, access }, SECRETS_GAS, deposit);
      await settle(chain, signer, tx);
      setStatus({ kind: 'ok', text: `Stored profile "${profile}" for ${describeAccessor(accessor)}; storage deposit ${formatNear(required)}.` });
      setPairs([{ name: '', value: '' }]);
      list.reload();
    } catch (e) {
      setStatus({ kind: 'error', text: errorText(e) });
    } finally {
      setWorking(false);
    }
  }

  return (
    <>
      <h1>Secrets</h1>
      {!owner && <p class="note">Choose an account (top right) to store and list secrets.</p>}
      <section aria-labelledby="store-h">
        <h2 id="store-h">Store secrets</h2>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void store();
          }}
        >
          <fieldset>
            <legend>Which code may read them</legend>
            <div class="row" role="radiogroup" aria-label="Accessor kind">
              <label class="inline">
                <input type="radio" name="accessor-kind" checked={kind === 'repo'} onChange={() => setKind('repo')} /> Repository
              </label>
              <label class="inline">
                <input type="radio" name="accessor-kind" checked={kind === 'wasm'} onChange={() => setKind('wasm')} /> WASM hash
              </label>
              <label class="inline">
                <input type="radio" name="accessor-kind" checked={kind === 'js'} onChange={() => setKind('js')} /> Inline JavaScript
              </label>
            </div>
            {kind === 'repo' ? (
              <div class="row">
                <label>
                  Repository
                  <input id="secret-repo" value={repo} onInput={(e) => setRepo(e.currentTarget.value)} placeholder="github.com/you/app" />
                </label>
                <label>
                  Branch (empty: any)
                  <input id="secret-branch" value={branch} onInput={(e) => setBranch(e.currentTarget.value)} />
                </label>
              </div>
            ) : kind === 'wasm' ? (
              <label>
                SHA-256 of the WASM binary
                <input id="secret-hash" class="mono" value={hash} onInput={(e) => setHash(e.currentTarget.value)} />
              </label>
            ) : (
              <>
                <label>
                  The script (exactly as sent: every byte counts, the last newline too)
                  <textarea
                    id="secret-js"
                    rows={10}
                    class="mono code"
                    spellcheck={false}
                    autoComplete="off"
                    value={jsCode}
                    onInput={(e) => setJsCode(e.currentTarget.value)}
                    aria-describedby="secret-js-help"
                  />
                </label>
                <p id="secret-js-help" class="help">
                  Hashed in this browser: the secrets are bound to the SHA-256 of the code (a <code>WasmHash</code> accessor), so only requests
                  carrying this very code can read them.
                </p>
              </>
            )}
            <p class={accessorError ? 'field-error' : 'help'} data-testid="accessor-status">
              {accessorError ?? `Bound to ${describeAccessor(accessor!)}${kind === 'js' ? ', the SHA-256 of this script' : ''}`}
            </p>
            <label>
              Profile
              <input id="secret-profile" value={profile} onInput={(e) => setProfile(e.currentTarget.value)} aria-invalid={profileError ? 'true' : undefined} />
            </label>
            {profileError && <p class="field-error">{profileError}</p>}
          </fieldset>
          <fieldset>
            <legend>Secrets (environment variables of the program)</legend>
            {pairs.map((p, i) => {
              const nameError = p.name === '' ? null : secretNameError(p.name);
              return (
                <div class="row pair" key={i}>
                  <label>
                    Name {i + 1}
                    <input
                      id={`secret-name-${i}`}
                      class="mono"
                      value={p.name}
                      aria-invalid={nameError ? 'true' : undefined}
                      onInput={(e) => setPairs(pairs.map((q, j) => (j === i ? { ...q, name: e.currentTarget.value } : q)))}
                    />
                  </label>
                  <label>
                    Value {i + 1}
                    <input
                      id={`secret-value-${i}`}
                      type="password"
                      autoComplete="off"
                      value={p.value}
                      onInput={(e) => setPairs(pairs.map((q, j) => (j === i ? { ...q, value: e.currentTarget.value } : q)))}
                    />
                  </label>
                  <button type="button" class="link" onClick={() => setPairs(pairs.filter((_, j) => j !== i))} disabled={pairs.length === 1}>
                    Remove {i + 1}
                  </button>
                  {nameError && <p class="field-error">{nameError}</p>}
                </div>
              );
            })}
            <button type="button" onClick={() => setPairs([...pairs, { name: '', value: '' }])}>
              Add a secret
            </button>
            {secretsError && filled.length > 0 && filled.every(([name]) => name === '' || !secretNameError(name)) && <p class="field-error">{secretsError}</p>}
          </fieldset>
          <fieldset>
            <legend>Who may use them (the caller of a request)</legend>
            <ConditionBuilder value={access} onChange={setAccess} idPrefix="access" />
          </fieldset>
          <button type="submit" id="store-secrets" disabled={!ready || working}>
            Encrypt in this browser and store
          </button>
          {status && (
            <p class={status.kind === 'error' ? 'field-error' : 'help'} role={status.kind === 'error' ? 'alert' : 'status'} data-testid="store-status">
              {status.text}
            </p>
          )}
        </form>
      </section>
      <section aria-labelledby="list-h">
        <h2 id="list-h">{owner ? `Profiles of ${owner}` : 'Profiles'}</h2>
        <Show value={list} what="secrets">
          {(items) =>
            items.length === 0 ? (
              <p class="empty">No secrets stored{owner ? ` by ${owner}` : ''}.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption>Stored secrets profiles (ciphertexts are not shown)</caption>
                  <thead>
                    <tr>
                      <th scope="col">Accessor</th>
                      <th scope="col">Profile</th>
                      <th scope="col">Who may use them</th>
                      <th scope="col">Deposit</th>
                      <th scope="col">Updated</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((s) => (
                      <ProfileRow key={`${describeAccessor(s.accessor)}/${s.profile}`} summary={s} onChanged={list.reload} />
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Show>
      </section>
    </>
  );
}

function sameAccessor(a: Accessor, b: Accessor): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function ProfileRow({ summary, onChanged }: { summary: SecretsSummary; onChanged: () => void }) {
  const { chain, signer } = useServices();
  const [editing, setEditing] = useState<AccessCondition | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [working, setWorking] = useState(false);

  async function saveAccess() {
    if (!signer || editing === null) return;
    setWorking(true);
    try {
      const record = await chain.getSecrets(summary.accessor, summary.profile, summary.owner);
      if (!record) throw new Error('the profile no longer exists');
      const required = await chain.estimateStorage(summary.owner, summary.accessor, summary.profile, record.encrypted_secrets_base64, editing);
      const held = BigInt(summary.storage_deposit);
      const deposit = required - held > 1n ? required - held : 1n;
      const tx = await signer.call(chain.contractId, 'update_access', { accessor: summary.accessor, profile: summary.profile, access: editing }, SECRETS_GAS, deposit);
      await settle(chain, signer, tx);
      setEditing(null);
      setMessage({ error: false, text: 'Access updated.' });
      onChanged();
    } catch (e) {
      setMessage({ error: true, text: errorText(e) });
    } finally {
      setWorking(false);
    }
  }

  async function remove() {
    if (!signer) return;
    if (!window.confirm(`Delete profile "${summary.profile}" for ${describeAccessor(summary.accessor)}? Its deposit is refunded.`)) return;
    setWorking(true);
    try {
      const tx = await signer.call(chain.contractId, 'delete_secrets', { accessor: summary.accessor, profile: summary.profile }, SECRETS_GAS, 1n);
      await settle(chain, signer, tx);
      onChanged();
    } catch (e) {
      setMessage({ error: true, text: errorText(e) });
    } finally {
      setWorking(false);
    }
  }

  const id = `edit-${summary.profile}`;
  return (
    <>
      <tr data-testid="secret-row">
        <td class="mono">{describeAccessor(summary.accessor)}</td>
        <td>{summary.profile}</td>
        <td>{describeCondition(summary.access)}</td>
        <td>{formatNear(summary.storage_deposit)}</td>
        <td>{formatTime(summary.updated_at / 1e6)}</td>
        <td>
          <button type="button" onClick={() => setEditing(editing === null ? summary.access : null)} aria-expanded={editing !== null} disabled={!signer || working}>
            Edit access
          </button>{' '}
          <button type="button" onClick={() => void remove()} disabled={!signer || working}>
            Delete
          </button>
          {message && (
            <p class={message.error ? 'field-error' : 'help'} role={message.error ? 'alert' : 'status'}>
              {message.text}
            </p>
          )}
        </td>
      </tr>
      {editing !== null && (
        <tr>
          <td colSpan={6}>
            <ConditionBuilder value={editing} onChange={setEditing} idPrefix={id} />
            <button type="button" onClick={() => void saveAccess()} disabled={working || conditionError(editing) !== null}>
              Save access
            </button>{' '}
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </td>
        </tr>
      )}
    </>
  );
}
