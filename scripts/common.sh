# Shared settings for the scripts in this folder; sourced, not run.
# One cargo target directory outside the clone, so CI runs and local runs
# reuse artifacts (clean builds of wasmtime take minutes on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/outlayer/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

step() { printf '\n== %s\n' "$*"; }
