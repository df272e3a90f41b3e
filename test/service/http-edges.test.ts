/**
 * Issue 12, item 4: the edges of HTTP. `DELETE` with `Content-Type: application/json` and no body
 * is accepted; a body that is not valid UTF-8 is refused; errors raised before our handlers (Node's
 * HTTP parser, fastify's router) answer in Inngest's `{"error","data":null,"status"}`; a number
 * beyond a 64-bit float and malformed JSON are described by position, never by echoing the body.
 * Requests go over real sockets, byte for byte.
 */
import fc from "fast-check";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeJsonError, invalidUtf8Offset, readJsonBody } from "../../src/service/json-body.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { call, startServer, type Running } from "./helpers.js";

const KEY = "signkey-test-edges-000000000000";
const BODY = { app_id: "a", function_id: "f", started_before: "2020-01-01T00:00:00Z" };
let running: Running;
let store: SqliteRunStore;
let host: string;
let port: number;

beforeAll(async () => {
  store = new SqliteRunStore({ path: ":memory:" });
  running = await startServer({ store, keys: { [KEY]: "env" }, resume: false, ui: false });
  const url = new URL(running.url);
  host = url.hostname;
  port = Number(url.port);
});
afterAll(async () => {
  await running.server.close();
  await store.close();
});

interface RawAnswer {
  readonly status: number;
  readonly headers: string;
  readonly json: any;
}

/** Sends `request` as raw bytes on a fresh connection and reads the answer until the server closes it. */
function raw(request: Buffer | string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      let json: any;
      try {
        json = JSON.parse(text.slice(split + 4));
      } catch {
        json = undefined;
      }
      resolve({ status, headers: head, json });
    });
    socket.end(request);
  });
}

/** A raw request with a body of exact bytes. */
function withBody(method: string, path: string, body: Buffer, headers: Record<string, string> = {}): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, `Authorization: Bearer ${KEY}`, "Connection: close", `Content-Length: ${body.length}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

const json = (text: string): Buffer => Buffer.from(text, "utf8");

describe("DELETE with Content-Type: application/json and no body", () => {
  it("deletes the record (many clients send the header on every request)", async () => {
    const created = await call(`${running.url}/v1/cancellations`, KEY, { body: BODY });
    expect(created.status).toBe(200);
    const answer = await raw(withBody("DELETE", `/v1/cancellations/${created.json.id}`, Buffer.alloc(0), { "Content-Type": "application/json" }));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true });
    expect(await store.getCancellation(created.json.id)).toBeUndefined();
    // A POST still needs its body.
    const empty = await raw(withBody("POST", "/v1/cancellations", Buffer.alloc(0), { "Content-Type": "application/json" }));
    expect(empty.json).toEqual({ error: "Invalid cancellation request: the body is empty", data: null, status: 400 });
  });

  it("an empty body is no body whatever its content type; a body that is not JSON is still 415", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const created = await call(`${running.url}/v1/cancellations`, KEY, { body: BODY });
      const answer = await raw(withBody("DELETE", `/v1/cancellations/${created.json.id}`, Buffer.alloc(0), { "Content-Type": type }));
      expect(answer.json, type).toEqual({ ok: true });
      const empty = await raw(withBody("POST", "/v1/cancellations", Buffer.alloc(0), { "Content-Type": type }));
      expect(empty.json, type).toEqual({ error: "Invalid cancellation request: the body is empty", data: null, status: 400 });
      const text = await raw(withBody("POST", "/v1/cancellations", json(JSON.stringify(BODY)), { "Content-Type": type }));
      expect(text.json, type).toEqual({ error: `Unsupported Media Type "${type}": send a JSON body with Content-Type: application/json`, data: null, status: 415 });
    }
  });
});

describe("bodies that are not valid UTF-8", () => {
  const sequences: [string, number[]][] = [
    ["FF FE", [0xff, 0xfe]],
    ["C0 80 (overlong NUL)", [0xc0, 0x80]],
    ["ED A0 80 (a surrogate)", [0xed, 0xa0, 0x80]],
    ["E2 82 (truncated)", [0xe2, 0x82]],
    ["E9 (a Latin-1 é)", [0xe9]],
  ];
  it.each(sequences)("%s in a string is refused with 400 on every JSON route, and nothing is stored", async (_name, bytes) => {
    const before = (await store.listCancellations({ limit: 1000 })).records.length;
    const body = Buffer.concat([json('{"app_id":"'), Buffer.from(bytes), json('","function_id":"f","started_before":"2020-01-01T00:00:00Z"}')]);
    for (const path of ["/v1/cancellations", "/v1/cancellations?dry_run=true", "/v1/cancellations/preview", "/v1/cancellations/check", "/v1/expressions/check"]) {
      const answer = await raw(withBody("POST", path, body, { "Content-Type": "application/json" }));
      expect(answer.json, path).toEqual({ error: "Invalid cancellation request: the body is not valid UTF-8 (an invalid byte sequence at byte offset 11)", data: null, status: 400 });
    }
    expect((await store.listCancellations({ limit: 1000 })).records.length).toBe(before);
  });

  it("well-formed multi-byte text is taken as sent", async () => {
    const body = json(JSON.stringify({ ...BODY, app_id: "é-中-😀" }));
    const answer = await raw(withBody("POST", "/v1/cancellations", body, { "Content-Type": "application/json" }));
    expect(answer.status).toBe(200);
    expect(answer.json.app_id).toBe("é-中-😀");
  });

  it("invalidUtf8Offset agrees with Node's decoder on every byte string (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const lenient = Buffer.from(bytes).toString("utf8");
        // The strict reading is valid exactly when the lenient one round-trips to the same bytes.
        const valid = Buffer.from(lenient, "utf8").equals(Buffer.from(bytes));
        const offset = invalidUtf8Offset(bytes);
        expect(offset === -1).toBe(valid);
        if (offset >= 0) expect(invalidUtf8Offset(bytes.subarray(0, offset))).toBe(-1);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("errors raised before our handlers answer in Inngest's shape", () => {
  it("a path whose percent-encoding does not decode: 400", async () => {
    for (const path of ["/v1/cancellations/%E0%A4%A", "/v1/cancellations/%FF", "/v1/cancellations/%C0%80/events"]) {
      const answer = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n\r\n`);
      expect(answer.json, path).toEqual({ error: "Bad request: the path is not valid percent-encoded UTF-8", data: null, status: 400 });
    }
  });

  it("a path parameter over fastify's length limit: 414", async () => {
    const answer = await raw(`GET /v1/cancellations/${"A".repeat(300)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n\r\n`);
    expect(answer.json).toEqual({ error: "URI too long: a path segment is longer than the server accepts", data: null, status: 414 });
  });

  it("headers over the size limit: 431", async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.json).toEqual({ error: "Request header fields too large: the request line and headers exceed the server's limit", data: null, status: 431 });
    expect(answer.headers).toMatch(/content-type: application\/json/i);
  });

  it("a malformed request line or header: 400", async () => {
    const cases: [string, string][] = [
      ["GARBAGE\r\n\r\n", "Bad request: the request method is not valid"],
      ["G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "Bad request: the request method is not valid"],
      ["GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", "Bad request: the HTTP version is not valid"],
      ["GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n", "Bad request: a header is malformed"],
      ["POST /v1/cancellations HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", "Bad request: Content-Length is not valid"],
    ];
    for (const [request, error] of cases) {
      const answer = await raw(request);
      expect(answer.json, JSON.stringify(request)).toEqual({ error, data: null, status: 400 });
    }
  });
});

describe("numbers beyond a 64-bit float and malformed JSON, described without echoing the body", () => {
  it("1e400 is named by position as too large, not as Infinity", async () => {
    const answer = await call(`${running.url}/v1/cancellations`, KEY, { body: '{"app_id":"a","function_id":"f","started_before":1e400}' });
    expect(answer.json).toEqual({
      error: "Invalid cancellation request: the number at line 1, column 50 is too large for a 64-bit float (its magnitude must stay below 1.8e308)",
      data: null,
      status: 400,
    });
    const nested = await call(`${running.url}/v1/cancellations/check`, KEY, { body: '{"app_id":"a","function_id":"f","run_id":"01HMRMPE5ZQ4AMNJ3S2N79QGRZ",\n "event":{"data":{"n":-2e308}}}' });
    expect(nested.json.error).toBe("Invalid cancellation request: the number at line 2, column 23 is too large for a 64-bit float (its magnitude must stay below 1.8e308)");
  });

  it("malformed JSON says where and what, and quotes nothing of the body", async () => {
    const cases: [string, string][] = [
      ['{"app_id": "SECRET-1", oops}', "malformed JSON at line 1, column 24: expected a key in double quotes"],
      ['{"app_id": SECRET}', "malformed JSON at line 1, column 12: expected a value"],
      ['{"app_id": "SECRET"\n "f": 1}', "malformed JSON at line 2, column 2: expected ',' or '}' after a value"],
      ['{"app_id": "SECRET', "malformed JSON at line 1, column 12: unterminated string"],
      ['["SECRET", 01]', "malformed JSON at line 1, column 12: invalid number"],
      ['{"SECRET" 1}', "malformed JSON at line 1, column 11: expected ':' after a key"],
      ['{"a": "\\x SECRET"}', "malformed JSON at line 1, column 8: invalid escape sequence in a string"],
      ['{"a": 1} SECRET', "malformed JSON at line 1, column 10: unexpected text after the JSON value"],
      ["\ufeff{}", "malformed JSON at line 1, column 1: a byte order mark is not allowed"],
      ["   ", "malformed JSON at line 1, column 4: unexpected end of the body"],
    ];
    for (const [body, message] of cases) {
      const answer = await call(`${running.url}/v1/cancellations`, KEY, { body });
      expect(answer.json, body).toEqual({ error: `Invalid cancellation request: ${message}`, data: null, status: 400 });
      expect(answer.text).not.toContain("SECRET");
    }
  });

  /** Every problem the scanner names: fixed texts, none built from the body. */
  const SCANNER_PROBLEMS = [
    "unexpected end of the body",
    "invalid number",
    "a byte order mark is not allowed",
    "expected a value",
    "expected a key in double quotes",
    "expected ':' after a key",
    "unexpected text after the JSON value",
    "expected ',' or '}' after a value",
    "expected ',' or ']' after a value",
    "unterminated string",
    "a control character in a string must be escaped",
    "invalid escape sequence in a string",
  ];

  /** Text close to JSON: valid documents with one character inserted, deleted or replaced, and JSON-ish noise. */
  const nearJson = fc.oneof(
    fc.tuple(fc.json(), fc.nat(), fc.constantFrom("", "{", "}", "[", "]", ",", ":", '"', "\\", "-", "0", "e", ".", " ", "\u0001", "\ufeff", "t")).map(([text, at, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + (at % 2));
    }),
    fc.stringMatching(/^[ \t\n{}[\]",:0-9.eE+\-truefalsn\\u]{0,24}$/),
  );

  it("the scanner finds a problem exactly when JSON.parse fails (property)", () => {
    fc.assert(
      fc.property(nearJson, (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(describeJsonError(text, false) === undefined, JSON.stringify(text)).toBe(parses);
      }),
      { numRuns: 5000 },
    );
  });

  it("every body answers 200 or 400 in Inngest's shape, and a 400 for JSON quotes none of it (property)", async () => {
    await fc.assert(
      fc.asyncProperty(nearJson, async (text) => {
        const read = readJsonBody(Buffer.from(text, "utf8"));
        if (!read.ok) {
          const malformed = /^malformed JSON at line \d+, column \d+: (.*)$/.exec(read.message);
          if (malformed !== null) expect(SCANNER_PROBLEMS).toContain(malformed[1]);
          else expect(read.message).toMatch(/^the number at line \d+, column \d+ is too large for a 64-bit float \(its magnitude must stay below 1\.8e308\)$/);
        }
        const answer = await running.server.app.inject({ method: "POST", url: "/v1/cancellations?dry_run=true", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, payload: text });
        expect([200, 400], answer.body).toContain(answer.statusCode);
        expect(JSON.parse(answer.body)).toMatchObject(answer.statusCode === 400 ? { data: null, status: 400 } : { dry_run: true });
      }),
      { numRuns: 300 },
    );
  });
});

describe("the check route takes any run id time", () => {
  it("run ids at the ends of ULID time (year 1970 and year 10889) are checked, never a 500", async () => {
    for (const runId of ["00000000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"]) {
      const answer = await call(`${running.url}/v1/cancellations/check`, KEY, { body: { app_id: "a", function_id: "f", run_id: runId, event: { data: {} } } });
      expect(answer.json, runId).toEqual({ cancelled: false, cancellation_id: null });
    }
  });
});
