import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  MAX_INLINE_SCRIPT_BYTES,
  SCRIPT_EXAMPLES,
  inlineCodeBytes,
  jsonStringLength,
  scriptAccessor,
  scriptCodeError,
  scriptHash,
  scriptSourceText,
  storageBytes,
} from './script';
import { codeSourceError, describeSource } from './source';
import { keySeed, normalizeAccessor } from '../crypto/accessor';

const js = (code: string) => ({ JavaScript: { code } });
const tooBig = (n: number) => `code takes ${n} bytes as a JSON string, above the cap 4096; put larger scripts in a repository`;
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('json_string_len (the inline code size the contract measures)', () => {
  it('counts the quotes, two-byte and six-byte escapes, and UTF-8 bytes', () => {
    expect(jsonStringLength('')).toBe(2);
    expect(jsonStringLength('a')).toBe(3);
    expect(jsonStringLength('"')).toBe(4);
    expect(jsonStringLength('\\')).toBe(4);
    expect(jsonStringLength('\b\t\n\f\r')).toBe(2 + 5 * 2);
    expect(jsonStringLength('\u0000')).toBe(8);
    expect(jsonStringLength('\u000b')).toBe(8); // vertical tab: no short escape
    expect(jsonStringLength('\u001f')).toBe(8);
    expect(jsonStringLength('\u007f')).toBe(3); // DEL is written as is
    expect(jsonStringLength('é')).toBe(4);
    expect(jsonStringLength('€')).toBe(5);
    expect(jsonStringLength('😀')).toBe(6);
    expect(jsonStringLength('\u2028')).toBe(5); // serde_json does not escape it
  });

  it('is the UTF-8 length of JSON.stringify for every ASCII character and some beyond', () => {
    const chars = [...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)), 'é', '€', '😀', '\u00a0', '\u0085', '\ufeff'];
    for (const c of chars) expect(jsonStringLength(c), JSON.stringify(c)).toBe(utf8Bytes(JSON.stringify(c)));
    const mixed = chars.join('') + 'const x = "a\\b";\n\tconsole.log(`${x}`);';
    expect(jsonStringLength(mixed)).toBe(utf8Bytes(JSON.stringify(mixed)));
  });
});

describe('CodeSource::JavaScript validation, as request_execution refuses', () => {
  it('the cap is 4096 bytes as a JSON string: 4096 passes, 4097 is refused with the contract message', () => {
    expect(MAX_INLINE_SCRIPT_BYTES).toBe(4096);
    expect(scriptCodeError('x'.repeat(4094))).toBeNull(); // 4094 + 2 quotes = 4096
    expect(scriptCodeError('x'.repeat(4095))).toBe(tooBig(4097));
    expect(codeSourceError(js('x'.repeat(4094)))).toBeNull();
    expect(codeSourceError(js('x'.repeat(4095)))).toBe(`invalid code_source: ${tooBig(4097)}`);
  });

  it('control characters count 6 bytes, quotes, backslashes and \\n 2, non-ASCII its UTF-8 bytes', () => {
    const ctl = '\u0001'.repeat(682); // 682 × 6 = 4092
    expect(jsonStringLength(ctl)).toBe(4094);
    expect(scriptCodeError('aa' + ctl)).toBeNull(); // 4096
    expect(scriptCodeError('aaa' + ctl)).toBe(tooBig(4097));
    // 683 bytes of code, 4100 as a JSON string: refused, as the contract does.
    expect(scriptCodeError('\u0001'.repeat(683))).toBe(tooBig(4100));
    expect(scriptCodeError('x' + '\n'.repeat(2046) + 'x')).toBeNull(); // 2 + 2 + 4092
    expect(scriptCodeError('x' + '\n'.repeat(2047) + 'x')).toBe(tooBig(4098));
    expect(scriptCodeError('"'.repeat(2047))).toBeNull(); // 2 + 2047 × 2
    expect(scriptCodeError('"'.repeat(2047) + 'x')).toBe(tooBig(4097));
    expect(scriptCodeError('\\'.repeat(2048))).toBe(tooBig(4098));
    expect(scriptCodeError('é'.repeat(2047))).toBeNull(); // 4094 + 2
    expect(scriptCodeError('é'.repeat(2047) + 'x')).toBe(tooBig(4097));
    expect(scriptCodeError('😀'.repeat(1023) + 'xx')).toBeNull(); // 4092 + 2 + 2
    expect(scriptCodeError('😀'.repeat(1024))).toBe(tooBig(4098));
  });

  it('empty or whitespace-only code is refused first, with Rust\'s idea of whitespace', () => {
    for (const empty of ['', ' ', '\n\t\r\f\u000b', '\u00a0', '\u0085', '\u2028', '\u3000', ' '.repeat(5000)]) {
      expect(scriptCodeError(empty), JSON.stringify(empty)).toBe('code must not be empty');
      expect(codeSourceError(js(empty))).toBe('invalid code_source: code must not be empty');
    }
    // U+FEFF is not White_Space in Rust (JavaScript's trim strips it).
    expect(scriptCodeError('\ufeff')).toBeNull();
    expect(scriptCodeError('  1  ')).toBeNull();
  });

  it('refuses shapes serde would not read', () => {
    expect(codeSourceError({ JavaScript: {} })).toBe('code_source.JavaScript.code must be a string');
    expect(codeSourceError({ JavaScript: { code: 1 } })).toBe('code_source.JavaScript.code must be a string');
    expect(codeSourceError({ JavaScript: 'x' })).toBe('code_source.JavaScript must be an object');
    expect(codeSourceError(js('a\ud800b'))).toBe('code_source.JavaScript.code is not valid Unicode (it holds a lone surrogate)');
    expect(codeSourceError(js('😀'))).toBeNull();
  });
});

describe('the deposit counts inline code like input', () => {
  it('input_bytes is the input plus the code, in UTF-8 bytes', () => {
    expect(inlineCodeBytes(js('outlayer.output(1)'))).toBe(18);
    expect(inlineCodeBytes(js('é\u0001'))).toBe(3); // UTF-8 bytes, not the escaped size
    expect(inlineCodeBytes({ GitHub: { repo: 'a/b', commit: 'main', build_target: 'wasm32-wasip1' } })).toBe(0);
    expect(inlineCodeBytes(null)).toBe(0);
    expect(storageBytes('NEAR', js('outlayer.output("€")'))).toBe(4 + 22);
    expect(storageBytes('né', { WasmUrl: { url: 'https://x', hash: 'a'.repeat(64), build_target: 'wasm32-wasip1' } })).toBe(3);
  });
});

describe('the code hash (WasmHash accessor, coordinator checksum)', () => {
  it('is SHA-256 of the UTF-8 code in lower-case hex', () => {
    expect(scriptHash('outlayer.output(1)')).toBe('8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037');
    expect(scriptHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const code of ['é', 'console.log("😀")\n', SCRIPT_EXAMPLES[0]!.code]) {
      expect(scriptHash(code)).toBe(createHash('sha256').update(code, 'utf8').digest('hex'));
    }
    expect(scriptSourceText('outlayer.output(1)')).toBe('javascript:8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037');
  });

  it('binds secrets to a WasmHash accessor the contract keeps as it is', () => {
    const accessor = scriptAccessor('outlayer.output(1)');
    expect(accessor).toEqual({ WasmHash: { hash: '8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037' } });
    expect(normalizeAccessor(accessor)).toEqual(accessor);
    expect(keySeed(accessor, 'alice.near')).toBe('wasm:8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037:alice.near');
    // Every byte counts: a final newline is another script.
    expect(scriptAccessor('outlayer.output(1)\n')).not.toEqual(accessor);
  });

  it('describes an inline source by kind, size and hash', () => {
    expect(describeSource(js('outlayer.output(1)'))).toBe('JavaScript (inline), 18 bytes, sha256 8975f37e1fad');
  });
});

describe('the bundled examples', () => {
  it('are this checkout\'s examples/js files, byte for byte, and valid inline code', () => {
    const dir = fileURLToPath(new URL('../../../examples/js', import.meta.url));
    expect(SCRIPT_EXAMPLES.map((e) => e.name)).toEqual(['examples/js/hello.js', 'examples/js/compute.js']);
    for (const e of SCRIPT_EXAMPLES) {
      expect(e.code).toBe(readFileSync(join(dir, e.name.replace('examples/js/', '')), 'utf8'));
      expect(codeSourceError(js(e.code))).toBeNull();
    }
  });
});
