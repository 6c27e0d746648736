import './polyfills';
import { render } from 'preact';

import { App } from './app';
import { errorText } from './api/coordinator';
import { loadConfig } from './lib/config';
import './style.css';

const root = document.getElementById('app')!;

loadConfig().then(
  (config) => render(<App config={config} />, root),
  (e: unknown) =>
    render(
      <main id="main" class="boot-error">
        <h1>OutLayer dashboard</h1>
        <div class="error" role="alert">
          <strong>No configuration</strong>
          <p>{errorText(e)}</p>
          <p>
            Serve this page with <code>outlayer dev --dashboard-dir</code>, or put a <code>config.json</code> next to it
            (see the dashboard's README).
          </p>
        </div>
      </main>,
      root,
    ),
);
