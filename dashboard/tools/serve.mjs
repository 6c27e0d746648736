#!/usr/bin/env node
// Serves dist/ with a generated config.json, proxying the coordinator and
// the NEAR RPC through the same origin, so the page works against services
// that do not answer CORS (an `outlayer dev` built before --dashboard-dir,
// a remote coordinator). Loopback only. Development tool, not a server for
// production.
//
//   node tools/serve.mjs --listen 127.0.0.1:8090 --rpc http://127.0.0.1:3030 \
//     --coordinator http://127.0.0.1:8080 [--contract outlayer.test.near] \
//     [--network local] [--credentials-dir .outlayer/dev/near-credentials/outlayer-local] \
//     [--project /path/to/checkout] [--dist dist]

import { createServer, request as httpRequest } from 'node:http';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, extname, resolve, normalize } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const listen = args.listen ?? '127.0.0.1:8090';
const [host, port] = listen.split(':');
if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') throw new Error('loopback addresses only');
const dist = resolve(args.dist ?? 'dist');
const network = args.network ?? 'local';
const upstream = { '/_rpc': args.rpc ?? 'http://127.0.0.1:3030', '/_coordinator': args.coordinator ?? 'http://127.0.0.1:8080' };

function devAccounts() {
  const dir = args['credentials-dir'];
  if (!dir || network !== 'local') return [];
  return readdirSync(dir)
    .filter((f) => /^(alice|bob)\..*\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .map((k) => ({ account_id: k.account_id, public_key: k.public_key, private_key: k.private_key }));
}

function examples() {
  const project = args.project;
  if (!project || network !== 'local') return [];
  const commit = execFileSync('git', ['-C', project, 'rev-parse', 'HEAD']).toString().trim();
  return ['secrets-env', 'echo', 'random', 'compute']
    .filter((name) => existsSync(join(project, 'examples', name)))
    .map((name) => ({
      name: `examples/${name}`,
      source: { GitPackage: { repo: `file://${resolve(project)}`, commit, path: `examples/${name}`, build_target: 'wasm32-wasip1' } },
    }));
}

const origin = `http://${listen}`;
const config = {
  network,
  rpc_url: `${origin}/_rpc`,
  coordinator_url: `${origin}/_coordinator`,
  contract_id: args.contract ?? 'outlayer.test.near',
  dev_accounts: devAccounts(),
  examples: examples(),
};

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml' };

createServer((req, res) => {
  // Development keys are in config.json: answer only requests addressed to a
  // loopback name, so a page elsewhere cannot rebind its domain to us.
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('loopback names only');
    return;
  }
  const url = new URL(req.url, origin);
  for (const [prefix, target] of Object.entries(upstream)) {
    if (url.pathname === prefix || url.pathname.startsWith(prefix + '/')) {
      const to = new URL(target);
      const path = url.pathname.slice(prefix.length) || '/';
      const proxied = httpRequest(
        { hostname: to.hostname, port: to.port, method: req.method, path: path + url.search, headers: { ...req.headers, host: to.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      proxied.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'unavailable', message: `upstream ${target}: ${e.message}` }));
      });
      req.pipe(proxied);
      return;
    }
  }
  if (url.pathname === '/config.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(config));
    return;
  }
  const file = normalize(join(dist, url.pathname === '/' ? 'index.html' : url.pathname));
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}).listen(Number(port), host, () => console.log(`dashboard on ${origin}/`));
