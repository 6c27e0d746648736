// The script's globals, built from the engine's host functions. Evaluated
// before the script; `host` never becomes a global.
(function (host) {
  "use strict";

  const show = (value) => {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : String(value);
    if (typeof value === "function") return `[Function ${value.name || "(anonymous)"}]`;
    if (typeof value === "bigint") return `${value}n`;
    if (value === undefined || typeof value === "symbol") return String(value);
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch {
      return String(value);
    }
  };
  const line = (args) => args.map(show).join(" ") + "\n";
  const out = (...args) => host.write(1, line(args));
  const err = (...args) => host.write(2, line(args));
  // As in Node: log/info/debug to stdout (the result), warn/error to stderr.
  globalThis.console = Object.freeze({ log: out, info: out, debug: out, warn: err, error: err });

  let input;
  globalThis.outlayer = Object.freeze({
    /** The request's input as text. */
    input: () => (input ??= host.readInput()),
    /** The request's input parsed as JSON. */
    inputJson: () => JSON.parse(globalThis.outlayer.input()),
    /** Appends to the result: strings as they are, anything else as JSON. */
    output: (value) => host.write(1, typeof value === "string" ? value : JSON.stringify(value)),
  });

  globalThis.process = Object.freeze({ env: Object.freeze(host.env) });

  // The sandbox's randomness: seeded per request, so results reproduce.
  Math.random = () => host.random();

  class Headers {
    #entries;
    constructor(init = []) {
      const pairs = Array.isArray(init) ? init : Object.entries(init instanceof Headers ? Object.fromEntries(init) : init);
      this.#entries = pairs.map(([name, value]) => [String(name).toLowerCase(), String(value)]);
    }
    get(name) {
      const key = String(name).toLowerCase();
      const found = this.#entries.filter(([n]) => n === key).map(([, v]) => v);
      return found.length ? found.join(", ") : null;
    }
    has(name) {
      return this.get(name) !== null;
    }
    *entries() {
      yield* this.#entries;
    }
    [Symbol.iterator]() {
      return this.entries();
    }
  }

  class Response {
    #body;
    constructor(status, headers, body) {
      this.status = status;
      this.ok = status >= 200 && status < 300;
      this.headers = new Headers(headers);
      this.#body = body;
    }
    async text() {
      return this.#body;
    }
    async json() {
      return JSON.parse(this.#body);
    }
  }

  globalThis.Headers = Headers;
  globalThis.Response = Response;
  /** A subset of WHATWG fetch: method, headers, a text body; text responses. */
  globalThis.fetch = async (url, init = {}) => {
    const headers = [...new Headers(init.headers ?? [])];
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    const reply = host.fetch(String(url), String(init.method ?? "GET"), headers, body);
    return new Response(reply.status, reply.headers, reply.body);
  };

  // NEAR reads: answered by the sandbox at near.invalid (the worker's RPC,
  // at final, within a per-execution budget), never by a socket.
  const nearRead = async (path, body) => {
    const reply = host.fetch(`http://near.invalid${path}`, "POST", [["content-type", "application/json"]], JSON.stringify(body));
    if (reply.status !== 200) {
      let message = reply.body;
      try {
        message = JSON.parse(reply.body).message ?? message;
      } catch {}
      throw new Error(`near${path}: ${message}`);
    }
    return reply.body;
  };
  globalThis.near = Object.freeze({
    /** A view call; its result parsed as JSON when it is JSON. */
    view: async (contractId, methodName, args = {}) => {
      const text = await nearRead("/view", { contract_id: String(contractId), method_name: String(methodName), args });
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
    /** An account: {amount, locked, code_hash, storage_usage} (yoctoNEAR as strings). */
    account: async (accountId) => JSON.parse(await nearRead("/account", { account_id: String(accountId) })),
  });
})
