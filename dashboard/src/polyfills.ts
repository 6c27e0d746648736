// @near-js reaches for Node's Buffer in a few places (borsh, base encoding);
// browsers have none. Imported first by main.tsx.
import { Buffer } from 'buffer';

const g = globalThis as unknown as { Buffer?: typeof Buffer };
g.Buffer ??= Buffer;
