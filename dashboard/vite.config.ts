import { defineConfig } from 'vite';

// A static build: `dist/` is served by `outlayer dev --dashboard-dir`, by a
// coordinator, or by any static file server, next to a `config.json`.
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2048 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
