import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

// `npm run dev` serves the file named by DASHBOARD_CONFIG as ./config.json
// (e.g. one fetched from a running `outlayer dev`).
const devConfig: Plugin = {
  name: 'outlayer-dev-config',
  configureServer(server) {
    const file = process.env.DASHBOARD_CONFIG;
    if (!file) return;
    server.middlewares.use('/config.json', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(readFileSync(file));
    });
  },
};

// A static build: `dist/` is served by `outlayer dev --dashboard-dir`, by a
// coordinator, or by any static file server, next to a `config.json`.
export default defineConfig({
  base: './',
  plugins: [devConfig],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2048 },
  // The dev server may read examples/js too (bundled by src/lib/script.ts).
  server: { host: '127.0.0.1', fs: { allow: ['.', '../examples/js'] } },
  preview: { host: '127.0.0.1' },
});
