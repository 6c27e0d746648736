import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { Chain, DevKeySigner, txProgress, type TxSigner } from './api/chain';
import { rememberSent } from './lib/sent';
import { Coordinator, errorText, type HealthReport } from './api/coordinator';
import type { Config } from './lib/config';
import { ErrorBox } from './components/common';
import { Overview } from './pages/Overview';
import { Executions, ExecutionDetail } from './pages/Executions';
import { Workers } from './pages/Workers';
import { Secrets } from './pages/Secrets';
import { Playground } from './pages/Playground';

export interface Services {
  config: Config;
  coordinator: Coordinator;
  chain: Chain;
  signer: TxSigner | null;
  setSigner: (s: TxSigner | null) => void;
}

const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('no services');
  return s;
}

const PAGES = [
  { path: '', title: 'Overview' },
  { path: 'executions', title: 'Executions' },
  { path: 'workers', title: 'Workers' },
  { path: 'secrets', title: 'Secrets' },
  { path: 'playground', title: 'Playground' },
] as const;

function currentRoute(): string[] {
  return window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
}

export function App({ config }: { config: Config }) {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const coordinator = useMemo(() => new Coordinator(config.coordinator_url), [config]);
  const chain = useMemo(() => new Chain(config.rpc_url, config.contract_id), [config]);
  const [signer, setSigner] = useState<TxSigner | null>(() =>
    config.dev_accounts[0] ? new DevKeySigner(chain, config.dev_accounts[0]) : null,
  );
  const services: Services = { config, coordinator, chain, signer, setSigner };

  const page = route[0] ?? '';
  const current = PAGES.find((p) => p.path === page);
  const firstRender = useRef(true);
  useEffect(() => {
    document.title = `${current?.title ?? 'Not found'} · OutLayer`;
    // After a navigation, reading starts at the new page's content.
    if (!firstRender.current) document.getElementById('main')?.focus({ preventScroll: true });
    firstRender.current = false;
  }, [page]);

  let content;
  switch (page) {
    case '':
      content = <Overview />;
      break;
    case 'executions':
      content = route[1] ? <ExecutionDetail id={Number(route[1])} /> : <Executions />;
      break;
    case 'workers':
      content = <Workers />;
      break;
    case 'secrets':
      content = <Secrets />;
      break;
    case 'playground':
      content = <Playground />;
      break;
    default:
      content = <ErrorBox error={new Error(`There is no page #/${route.join('/')}.`)} />;
  }

  return (
    <ServicesContext.Provider value={services}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">OutLayer</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p.path === page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <AccountSwitch />
      </header>
      <HealthBanner />
      <WalletReturn />
      <main id="main" tabIndex={-1}>
        {content}
      </main>
      <footer class="foot">
        <span>
          {config.network} · contract <code>{config.contract_id}</code> · RPC <code>{config.rpc_url}</code> · coordinator{' '}
          <code>{config.coordinator_url}</code>
        </span>
      </footer>
    </ServicesContext.Provider>
  );
}

/** Who signs: a development account (local) or the wallet's account (testnet, mainnet). */
function AccountSwitch() {
  const { config, chain, signer, setSigner } = useServices();
  const [walletError, setWalletError] = useState<string | null>(null);
  const network = config.network;
  useEffect(() => {
    if (network === 'local') return;
    void import('./api/wallet').then(async (w) => {
      const id = await w.walletAccount(network);
      if (id) setSigner(new w.WalletSigner(await w.walletSelector(network), id));
    }, (e: unknown) => setWalletError(errorText(e)));
  }, [network]);

  if (network === 'local') {
    if (config.dev_accounts.length === 0) return <span class="account">No development accounts</span>;
    return (
      <label class="account">
        Acting as{' '}
        <select
          value={signer?.accountId}
          onChange={(e) => {
            const dev = config.dev_accounts.find((a) => a.account_id === e.currentTarget.value);
            setSigner(dev ? new DevKeySigner(chain, dev) : null);
          }}
        >
          {config.dev_accounts.map((a) => (
            <option key={a.account_id} value={a.account_id}>
              {a.account_id}
            </option>
          ))}
        </select>
      </label>
    );
  }
  return (
    <span class="account">
      {walletError && <span role="alert">{walletError}</span>}
      {signer ? (
        <>
          {signer.accountId}{' '}
          <button
            type="button"
            onClick={() => void import('./api/wallet').then((w) => w.signOut(network)).then(() => setSigner(null))}
          >
            Sign out
          </button>
        </>
      ) : (
        <button
          type="button"
          onClick={() =>
            void import('./api/wallet')
              .then((w) => w.signIn(network, config.contract_id))
              .catch((e: unknown) => setWalletError(errorText(e)))
          }
        >
          Connect wallet
        </button>
      )}
    </span>
  );
}

/** A line under the header when the coordinator or the chain does not answer. */
function HealthBanner() {
  const { coordinator, chain } = useServices();
  const [problems, setProblems] = useState<string[]>([]);
  useEffect(() => {
    let stop = false;
    const check = async () => {
      const found: string[] = [];
      await Promise.all([
        coordinator.health().then(
          (h) => {
            if (h.status === 'unhealthy') found.push(`The coordinator is unhealthy: ${describeHealth(h)}`);
            else if (h.status === 'degraded') found.push(`The coordinator is degraded: ${describeHealth(h)}`);
          },
          (e: unknown) => found.push(errorText(e)),
        ),
        chain.blockHeight().then(
          () => undefined,
          (e: unknown) => found.push(errorText(e)),
        ),
      ]);
      if (!stop) setProblems(found);
    };
    void check();
    const timer = setInterval(check, 5000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [coordinator, chain]);
  if (problems.length === 0) return null;
  return (
    <div class="banner" role="alert" data-testid="health-banner">
      {problems.map((p) => (
        <p key={p}>{p}</p>
      ))}
    </div>
  );
}

function describeHealth(h: HealthReport): string {
  return (['store', 'queue', 'keystore', 'workers', 'monitor'] as const)
    .map((k) => h[k])
    .filter((c) => c && c.status !== 'healthy' && c.status !== 'disabled')
    .map((c) => `${c.status}: ${c.detail}`)
    .join('; ');
}

/**
 * A browser wallet sends the user back with `?transactionHashes=…` or
 * `?errorCode=…&errorMessage=…`. A request sent that way is looked up on
 * chain and shown; a refusal is said.
 */
function WalletReturn() {
  const { config, chain, signer } = useServices();
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  useEffect(() => {
    if (config.network === 'local' || !signer) return;
    const params = new URLSearchParams(window.location.search);
    const clean = () => window.history.replaceState(null, '', window.location.pathname + window.location.hash);
    const refused = params.get('errorCode');
    if (refused) {
      setMessage({ error: true, text: `The wallet refused: ${params.get('errorMessage') ?? refused}` });
      clean();
      return;
    }
    const hash = params.get('transactionHashes')?.split(',')[0];
    if (!hash) return;
    clean();
    setMessage({ error: false, text: `The wallet sent transaction ${hash}.` });
    void chain.txStatus(hash, signer.accountId, 'INCLUDED_FINAL').then((outcome) => {
      const p = outcome ? txProgress(outcome, false) : null;
      if (p?.requestId != null) {
        rememberSent({ request_id: p.requestId, tx_hash: hash, sender: signer.accountId, sent_at_ms: Date.now() });
        window.location.hash = `#/executions/${p.requestId}`;
      }
    });
  }, [config.network, signer?.accountId]);
  if (!message) return null;
  return (
    <div class={message.error ? 'banner' : 'banner info'} role={message.error ? 'alert' : 'status'}>
      <p>{message.text}</p>
    </div>
  );
}
