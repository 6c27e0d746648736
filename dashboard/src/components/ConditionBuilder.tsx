import {
  type AccessCondition,
  COMPARISON_OPERATORS,
  COMPARISON_SYMBOLS,
  CONDITION_KINDS,
  type ComparisonOperator,
  type ConditionKind,
  conditionProblem,
  emptyCondition,
  kindOf,
} from '../conditions/condition';
import { formatNear } from '../lib/format';

const KIND_LABELS: Record<ConditionKind, string> = {
  AllowAll: 'Anyone',
  Whitelist: 'Accounts in a list',
  AccountPattern: 'Account id matches a pattern',
  NearBalance: 'NEAR balance',
  FtBalance: 'Fungible token balance',
  NftOwned: 'Owns an NFT',
  Logic: 'All / any of several conditions',
  Not: 'Not',
};

/** Edits an access condition tree; shows where the contract would refuse it. */
export function ConditionBuilder({ value, onChange, idPrefix }: { value: AccessCondition; onChange: (c: AccessCondition) => void; idPrefix: string }) {
  const problem = conditionProblem(value);
  return (
    <div class="condition-builder">
      <Node value={value} onChange={onChange} path={[]} problemPath={problem?.path ?? null} id={idPrefix} depth={1} />
      <p class={problem ? 'field-error' : 'help'} role={problem ? 'alert' : undefined} data-testid={`${idPrefix}-status`}>
        {problem ? problem.message : 'The contract accepts this condition.'}
      </p>
    </div>
  );
}

function samePath(a: number[] | null, b: number[]): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

function Node({
  value,
  onChange,
  path,
  problemPath,
  id,
  depth,
}: {
  value: AccessCondition;
  onChange: (c: AccessCondition) => void;
  path: number[];
  problemPath: number[] | null;
  id: string;
  depth: number;
}) {
  const kind = kindOf(value);
  const here = samePath(problemPath, path);
  return (
    <fieldset class={`condition${here ? ' has-problem' : ''}`}>
      <legend>
        <label>
          <span class="visually-hidden">Condition at level {depth}</span>
          <select
            id={`${id}-kind`}
            value={kind}
            onChange={(e) => onChange(emptyCondition(e.currentTarget.value as ConditionKind))}
            aria-invalid={here ? 'true' : undefined}
          >
            {CONDITION_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
      </legend>
      {value !== 'AllowAll' && 'Whitelist' in value && (
        <label>
          Accounts (one per line)
          <textarea
            id={`${id}-accounts`}
            rows={3}
            value={value.Whitelist.accounts.join('\n')}
            onInput={(e) => {
              const accounts = e.currentTarget.value.split('\n').map((s) => s.trim()).filter((s) => s !== '');
              onChange({ Whitelist: { accounts } });
            }}
          />
        </label>
      )}
      {value !== 'AllowAll' && 'AccountPattern' in value && (
        <label>
          Regular expression, matched against the whole account id
          <input id={`${id}-pattern`} value={value.AccountPattern.pattern} onInput={(e) => onChange({ AccountPattern: { pattern: e.currentTarget.value } })} />
        </label>
      )}
      {value !== 'AllowAll' && 'NearBalance' in value && (
        <div class="row">
          <Operator value={value.NearBalance.operator} onChange={(operator) => onChange({ NearBalance: { ...value.NearBalance, operator } })} id={id} />
          <Amount label="yoctoNEAR" id={id} value={value.NearBalance.value} onChange={(v) => onChange({ NearBalance: { ...value.NearBalance, value: v } })} near />
        </div>
      )}
      {value !== 'AllowAll' && 'FtBalance' in value && (
        <div class="row">
          <label>
            Token contract
            <input id={`${id}-contract`} value={value.FtBalance.contract} onInput={(e) => onChange({ FtBalance: { ...value.FtBalance, contract: e.currentTarget.value.trim() } })} />
          </label>
          <Operator value={value.FtBalance.operator} onChange={(operator) => onChange({ FtBalance: { ...value.FtBalance, operator } })} id={id} />
          <Amount label="Amount (smallest units)" id={id} value={value.FtBalance.value} onChange={(v) => onChange({ FtBalance: { ...value.FtBalance, value: v } })} />
        </div>
      )}
      {value !== 'AllowAll' && 'NftOwned' in value && (
        <div class="row">
          <label>
            NFT contract
            <input id={`${id}-contract`} value={value.NftOwned.contract} onInput={(e) => onChange({ NftOwned: { ...value.NftOwned, contract: e.currentTarget.value.trim() } })} />
          </label>
          <label>
            Token id (empty: any token)
            <input
              id={`${id}-token`}
              value={value.NftOwned.token_id ?? ''}
              onInput={(e) => onChange({ NftOwned: { ...value.NftOwned, token_id: e.currentTarget.value === '' ? null : e.currentTarget.value } })}
            />
          </label>
        </div>
      )}
      {value !== 'AllowAll' && 'Logic' in value && (
        <>
          <label>
            Combine with
            <select
              id={`${id}-logic`}
              value={value.Logic.operator}
              onChange={(e) => onChange({ Logic: { ...value.Logic, operator: e.currentTarget.value as 'And' | 'Or' } })}
            >
              <option value="And">and (all must hold)</option>
              <option value="Or">or (any may hold)</option>
            </select>
          </label>
          {value.Logic.conditions.map((child, i) => (
            <div class="child" key={i}>
              <Node
                value={child}
                id={`${id}-${i}`}
                path={[...path, i]}
                problemPath={problemPath}
                depth={depth + 1}
                onChange={(c) => {
                  const conditions = [...value.Logic.conditions];
                  conditions[i] = c;
                  onChange({ Logic: { ...value.Logic, conditions } });
                }}
              />
              <button
                type="button"
                class="link"
                onClick={() => onChange({ Logic: { ...value.Logic, conditions: value.Logic.conditions.filter((_, j) => j !== i) } })}
              >
                Remove condition {i + 1}
              </button>
            </div>
          ))}
          <button type="button" id={`${id}-add`} onClick={() => onChange({ Logic: { ...value.Logic, conditions: [...value.Logic.conditions, 'AllowAll'] } })}>
            Add a condition
          </button>
        </>
      )}
      {value !== 'AllowAll' && 'Not' in value && (
        <Node
          value={value.Not.condition}
          id={`${id}-0`}
          path={[...path, 0]}
          problemPath={problemPath}
          depth={depth + 1}
          onChange={(c) => onChange({ Not: { condition: c } })}
        />
      )}
    </fieldset>
  );
}

function Operator({ value, onChange, id }: { value: ComparisonOperator; onChange: (o: ComparisonOperator) => void; id: string }) {
  return (
    <label>
      Comparison
      <select id={`${id}-op`} value={value} onChange={(e) => onChange(e.currentTarget.value as ComparisonOperator)}>
        {COMPARISON_OPERATORS.map((o) => (
          <option key={o} value={o}>
            {COMPARISON_SYMBOLS[o]} ({o})
          </option>
        ))}
      </select>
    </label>
  );
}

function Amount({ label, value, onChange, id, near }: { label: string; value: string; onChange: (v: string) => void; id: string; near?: boolean }) {
  let hint = '';
  if (near && /^[0-9]+$/.test(value)) hint = `= ${formatNear(value)}`;
  return (
    <label>
      {label}
      <input id={`${id}-value`} inputMode="numeric" value={value} onInput={(e) => onChange(e.currentTarget.value.trim())} />
      {hint && <span class="help">{hint}</span>}
    </label>
  );
}
