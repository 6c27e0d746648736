// Code sources as request_execution takes them (outlayer_types::CodeSource).

export type BuildTarget = 'wasm32-wasip1' | 'wasm32-wasip2';
export type CodeSource =
  | { GitHub: { repo: string; commit: string; build_target: BuildTarget } }
  | { GitPackage: { repo: string; commit: string; path: string; build_target: BuildTarget } }
  | { WasmUrl: { url: string; hash: string; build_target: BuildTarget } };

export function describeSource(source: unknown): string {
  if (typeof source !== 'object' || source === null) return String(source);
  const s = source as Record<string, Record<string, string>>;
  if (s.GitHub) return `${s.GitHub.repo} @ ${short(s.GitHub.commit ?? '')}`;
  if (s.GitPackage) return `${s.GitPackage.repo} @ ${short(s.GitPackage.commit ?? '')} : ${s.GitPackage.path}`;
  if (s.WasmUrl) return `${s.WasmUrl.url} (sha256 ${short(s.WasmUrl.hash ?? '')})`;
  return JSON.stringify(source);
}

function short(commit: string): string {
  return /^[0-9a-f]{40,64}$/.test(commit) ? commit.slice(0, 12) : commit;
}

/** The repository a source is built from, for secrets bound to it. */
export function sourceRepo(source: unknown): string | null {
  const s = source as Record<string, { repo?: string }> | null;
  return s?.GitHub?.repo ?? s?.GitPackage?.repo ?? null;
}
