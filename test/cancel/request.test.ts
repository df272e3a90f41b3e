import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_EXPRESSION_MESSAGE_LENGTH,
  ValidationError,
  formatTimestamp,
  parseTimestamp,
  requestHash,
  toWireCancellation,
  validateCancellationRequest,
} from "../../src/cancel/index.js";
import { CompileError } from "../../src/expr/errors.js";
import { compile } from "../../src/expr/program.js";
import type { CancellationRecord } from "../../src/stores/types.js";
import { expectedInstant, rfc3339Text } from "../support/rfc3339.js";

const NOW = Date.parse("2024-01-22T15:00:00.000Z");
const OK = { app_id: "acme-app", function_id: "schedule-reminder", started_before: "2024-01-22T14:22:42.130Z" };

/** A stored record to write with other bounds. */
const RECORD: CancellationRecord = {
  id: "01HMRMPE5ZQ4AMNJ3S2N79QGRZ",
  environmentId: "e",
  appId: "a",
  functionId: "f",
  startedBefore: NOW,
  createdAt: NOW,
  updatedAt: NOW,
  status: "completed",
  counts: { scanned: 0, cancelled: 0, skipped_terminal: 0, not_matched: 0, expression_error: 0, non_boolean: 0 },
};

function errorsOf(body: unknown, now = NOW): string[] {
  try {
    validateCancellationRequest(body, { now });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    expect(v.status).toBe(400);
    expect(v.message).toBe(v.errors.join("\n"));
    return [...v.errors];
  }
  throw new Error("expected a ValidationError");
}

describe("validateCancellationRequest: Inngest's messages and order", () => {
  it("accepts the documented example and returns the typed request", () => {
    const request = validateCancellationRequest(
      { ...OK, started_after: "2024-01-21T18:23:12.000Z", if: "event.data.userId == 'user_o9235hf84hf'" },
      { now: NOW },
    );
    expect(request.appId).toBe("acme-app");
    expect(request.functionId).toBe("schedule-reminder");
    expect(request.startedAfter).toBe(Date.parse("2024-01-21T18:23:12.000Z"));
    expect(request.startedBefore).toBe(Date.parse("2024-01-22T14:22:42.130Z"));
    expect(request.if).toBe("event.data.userId == 'user_o9235hf84hf'");
    expect(request.program?.decide({ event: { data: { userId: "user_o9235hf84hf" } } })).toBe("match");
  });

  it("an empty object fails the three required fields, in order, joined by newlines", () => {
    const error = (() => {
      try {
        validateCancellationRequest({}, { now: NOW });
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error("no error");
    })();
    expect(error.message).toBe("app_id is required\nfunction_id is required\nstarted_before is required");
  });

  it("each required field on its own, and empty strings and null as missing (Go's zero values)", () => {
    expect(errorsOf({ ...OK, app_id: "" })).toEqual(["app_id is required"]);
    expect(errorsOf({ ...OK, app_id: null })).toEqual(["app_id is required"]);
    expect(errorsOf({ ...OK, function_id: undefined })).toEqual(["function_id is required"]);
    expect(errorsOf({ ...OK, started_before: null })).toEqual(["started_before is required"]);
  });

  it("started_before may be up to 5 s in the future, not a nanosecond more", () => {
    const at = (ms: number, fraction = "") => new Date(ms).toISOString().replace(".000Z", `${fraction}Z`);
    expect(() => validateCancellationRequest({ ...OK, started_before: at(NOW + 5000) }, { now: NOW })).not.toThrow();
    expect(errorsOf({ ...OK, started_before: at(NOW + 5000, ".000000001") })).toEqual(["started_before must be in the past"]);
    expect(errorsOf({ ...OK, started_before: at(NOW + 6000) })).toEqual(["started_before must be in the past"]);
    expect(errorsOf({ ...OK, started_before: "2999-01-01T00:00:00Z" })).toEqual(["started_before must be in the past"]);
  });

  it("started_after may equal started_before, not exceed it (compared to the nanosecond)", () => {
    expect(() => validateCancellationRequest({ ...OK, started_after: OK.started_before }, { now: NOW })).not.toThrow();
    expect(errorsOf({ ...OK, started_after: "2024-01-22T14:22:42.130000001Z" })).toEqual(["started_after must be before started_before"]);
    expect(() => validateCancellationRequest({ ...OK, started_after: "2024-01-22T15:22:42.130+01:00" }, { now: NOW })).not.toThrow();
  });

  it("with started_before missing, started_after is compared with Go's zero time (both messages)", () => {
    expect(errorsOf({ app_id: "a", function_id: "f", started_after: "2024-01-01T00:00:00Z" })).toEqual([
      "started_before is required",
      "started_after must be before started_before",
    ]);
    // Go's zero time itself is allowed (equal bounds); year 0 lies before it and is refused outright.
    expect(errorsOf({ app_id: "a", function_id: "f", started_after: "0001-01-01T00:00:00Z" })).toEqual(["started_before is required"]);
    expect(errorsOf({ app_id: "a", function_id: "f", started_after: "0000-06-01T00:00:00Z" })).toEqual([
      'started_after must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once its offset is applied, got "0000-06-01T00:00:00Z"',
      "started_before is required",
    ]);
  });

  it("every failure at once, in Inngest's order, expression last", () => {
    expect(errorsOf({ app_id: "", function_id: "", started_after: "2030-01-01T00:00:00Z", if: "event.data.x ==" })).toEqual([
      "app_id is required",
      "function_id is required",
      "started_before is required",
      "started_after must be before started_before",
      `invalid expression: ${compileMessage("event.data.x ==")}`,
    ]);
    expect(errorsOf({ app_id: "a", function_id: "", started_before: "2999-01-01T00:00:00Z", started_after: "2999-01-02T00:00:00Z" })).toEqual([
      "function_id is required",
      "started_before must be in the past",
      "started_after must be before started_before",
    ]);
  });
});

function compileMessage(source: string): string {
  try {
    compile(source, { dialect: "inngest" });
  } catch (error) {
    return (error as CompileError).message;
  }
  throw new Error(`${source} compiles`);
}

describe("validateCancellationRequest: the if expression", () => {
  it("reports a compile error as `invalid expression: ` and cel-go's text with the caret", () => {
    const [message] = errorsOf({ ...OK, if: "event.data.userId == " });
    expect(message).toBe(`invalid expression: ${compileMessage("event.data.userId == ")}`);
    expect(message).toMatch(/^invalid expression: ERROR: <input>:1:\d+: Syntax error: /);
    expect(message).toContain("\n | event.data.userId == \n | ");
  });

  it("refuses an if whose worst case per run exceeds the cost budget, with the other errors", () => {
    let chain = "event.data.n";
    for (let k = 16; k >= 1; k--) chain = `[1,2,3].map(x${k}, ${chain})`;
    for (const source of [`${chain} == []`, "event.data.s.matches(event.data.s)", "event.data.k.matches(event.data.r)"]) {
      const errors = errorsOf({ ...OK, app_id: "", if: source });
      expect(errors[0]).toBe("app_id is required");
      expect(errors[1]).toMatch(/^invalid expression: ERROR: <input>:1:\d+: expression too costly: its worst case is an estimated \S+ cost units per evaluation, over the limit of 1000000/);
    }
    // The same expressions compile when not validated as a cancellation's if.
    expect(() => compile("event.data.s.matches(event.data.s)", { dialect: "inngest" })).not.toThrow();
  });

  it("an empty string is an expression (and a syntax error); null means no filter", () => {
    expect(errorsOf({ ...OK, if: "" })[0]).toMatch(/^invalid expression: ERROR: <input>:1:1: Syntax error/);
    const request = validateCancellationRequest({ ...OK, if: null }, { now: NOW });
    expect(request.if).toBeUndefined();
    expect(request.program).toBeUndefined();
  });

  it("undeclared variables and type errors of the inngest dialect are rejected", () => {
    expect(errorsOf({ ...OK, if: "user.id == 'x'" })[0]).toMatch(/^invalid expression: ERROR: <input>:1:1: undeclared reference to 'user'/);
    expect(errorsOf({ ...OK, if: "event.data.x.matches('[')" })[0]).toMatch(/^invalid expression: ERROR: .*error parsing regexp/);
  });

  it("a 1 MB expression gives one short, clean error", () => {
    const huge = `event.data.x == '${"a".repeat(1_000_000)}'`;
    const errors = errorsOf({ ...OK, if: huge });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^invalid expression: ERROR: <input>:-1:0: expression code point size exceeds limit/);
    expect(errors[0]!.length).toBeLessThan(200);
  });

  it("long lines with errors are echoed around the caret, the whole message bounded", () => {
    // Five lines of ~14,700 characters (below the engine's 16,384 snippet cut-off), one error each:
    // the engine's message echoes every line whole, about 148 KB.
    const line = "event.data.a == 1 && ".repeat(700);
    const long = [0, 1, 2, 3, 4].map(() => `${line}event.data.b == ) &&`).join("\n") + " x";
    const raw = compileMessage(long);
    expect(raw.length).toBeGreaterThan(100_000);
    const [message] = errorsOf({ ...OK, if: long });
    expect(message!.length).toBeLessThanOrEqual(MAX_EXPRESSION_MESSAGE_LENGTH + "invalid expression: ".length);
    const body = message!.slice("invalid expression: ".length).split("\n");
    expect(body).toHaveLength(15);
    for (let i = 0; i < 5; i++) {
      const [header, echoed, caret] = body.slice(i * 3, i * 3 + 3);
      const column = Number(new RegExp(`^ERROR: <input>:${i + 1}:(\\d+): Syntax error: mismatched input '\\)'`).exec(header!)![1]);
      // The window starts 60 code points before the caret, after an ellipsis.
      expect(echoed!.startsWith(" | …")).toBe(true);
      const caretAt = caret!.length - 1;
      expect(caret!.endsWith("^")).toBe(true);
      expect(echoed![caretAt]).toBe(")");
      expect(echoed!.slice(4)).toBe(long.split("\n")[i]!.slice(column - 1 - 60, column - 1 + 60));
    }
  });

  it("short messages are passed through unchanged", () => {
    // ('''\q''': the inngest dialect takes quoted strings verbatim, but triple-quoted ones keep CEL's escapes.)
    for (const source of ["1 +", "event.data.x == 'a' &&", "size(1, 2) == 3", "a.b.c(", "'''\\q'''"]) {
      const errors = errorsOf({ ...OK, if: source });
      expect(errors).toEqual([`invalid expression: ${compileMessage(source)}`]);
    }
  });
});

describe("validateCancellationRequest: shapes Inngest calls `Invalid cancellation request`", () => {
  it("rejects bodies that are not JSON objects", () => {
    expect(errorsOf(null)).toEqual(["request body must be a JSON object, got null"]);
    expect(errorsOf(undefined)).toEqual(["request body must be a JSON object, got undefined"]);
    expect(errorsOf([OK])).toEqual(["request body must be a JSON object, got an array"]);
    expect(errorsOf(JSON.stringify(OK))).toEqual(["request body must be a JSON object, got a string"]);
    expect(errorsOf(42)).toEqual(["request body must be a JSON object, got a number"]);
    expect(errorsOf(new Map(Object.entries(OK)))).toEqual(["request body must be a JSON object, got a Map (not a JSON value)"]);
    expect(errorsOf(new Date())).toEqual(["request body must be a JSON object, got a Date (not a JSON value)"]);
    class Request {
      app_id = "a";
    }
    expect(errorsOf(new Request())).toEqual(["request body must be a JSON object, got a Request (not a JSON value)"]);
  });

  it("names wrong JSON types and non-JSON values per field, without also calling them missing", () => {
    expect(errorsOf({ ...OK, app_id: 5 })).toEqual(["app_id must be a string, got a number"]);
    expect(errorsOf({ ...OK, function_id: ["f"] })).toEqual(["function_id must be a string, got an array"]);
    expect(errorsOf({ ...OK, app_id: true, function_id: {} })).toEqual(["app_id must be a string, got a boolean", "function_id must be a string, got an object"]);
    expect(errorsOf({ ...OK, started_before: 1705933362130 })).toEqual(["started_before must be an RFC 3339 timestamp string, got a number"]);
    expect(errorsOf({ ...OK, started_before: new Date(NOW) })).toEqual([
      "started_before must be an RFC 3339 timestamp string, got a Date (not a JSON value)",
    ]);
    expect(errorsOf({ ...OK, started_after: Number.NaN })).toEqual(["started_after must be an RFC 3339 timestamp string, got NaN (not a JSON number)"]);
    expect(errorsOf({ ...OK, if: 1n })).toEqual(["if must be a string, got a bigint (not a JSON value)"]);
    expect(errorsOf({ ...OK, if: () => true })).toEqual(["if must be a string, got a function (not a JSON value)"]);
    expect(errorsOf({ ...OK, if: Symbol("x") })).toEqual(["if must be a string, got a symbol (not a JSON value)"]);
    expect(errorsOf({ ...OK, if: true })).toEqual(["if must be a string, got a boolean"]);
    expect(errorsOf({ ...OK, app_id: "\ud800x" })).toEqual(["app_id is not well-formed Unicode (it holds a lone surrogate)"]);
    const getter = { ...OK };
    Object.defineProperty(getter, "if", { get: () => "true", enumerable: true });
    expect(errorsOf(getter)).toEqual(['field "if" must be a plain value, not an accessor']);
  });

  it("rejects unknown fields by name (Inngest ignores them: we prefer loud), bounded", () => {
    expect(errorsOf({ ...OK, started_afer: "2024-01-01T00:00:00Z" })).toEqual([
      'unknown field "started_afer" (accepted: app_id, function_id, started_after, started_before, if)',
    ]);
    const many: Record<string, unknown> = { ...OK };
    for (let i = 0; i < 5000; i++) many[`x${i}`] = i;
    many["y".repeat(10_000)] = 1;
    const errors = errorsOf(many);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^unknown fields "x0", "x1", .* and 4991 more \(accepted: /);
    expect(errors[0]!.length).toBeLessThan(400);
  });

  it("matches keys ASCII-case-insensitively as Go does, and rejects a field given twice", () => {
    const request = validateCancellationRequest({ APP_ID: "a", Function_Id: "f", Started_Before: OK.started_before, IF: "true" }, { now: NOW });
    expect(request).toMatchObject({ appId: "a", functionId: "f", if: "true" });
    expect(errorsOf({ ...OK, App_Id: "b" })).toEqual(['app_id given more than once (as "app_id", "App_Id")']);
  });

  it("shape problems come first, then Inngest's messages", () => {
    expect(errorsOf({ app_id: 1, bogus: 2, started_before: "yesterday" })).toEqual([
      'unknown field "bogus" (accepted: app_id, function_id, started_after, started_before, if)',
      "app_id must be a string, got a number",
      'started_before is not an RFC 3339 timestamp: "yesterday" (expected YYYY-MM-DDThh:mm:ss[.fraction] and a zone (Z or ±hh:mm); for example 2024-01-22T14:22:42.130Z)',
      "function_id is required",
    ]);
  });
});

describe("RFC 3339 timestamps as Go's time.Time accepts them", () => {
  const valid: [string, number, number][] = [
    ["2024-01-22T14:22:42Z", Date.parse("2024-01-22T14:22:42Z"), 0],
    ["2024-01-22T14:22:42.130Z", Date.parse("2024-01-22T14:22:42.130Z"), 0],
    ["2024-01-22T14:22:42.1Z", Date.parse("2024-01-22T14:22:42.100Z"), 0],
    ["2024-01-22T14:22:42.123456789Z", Date.parse("2024-01-22T14:22:42.123Z"), 456_789],
    ["2024-01-22T16:22:42.5+02:00", Date.parse("2024-01-22T14:22:42.500Z"), 0],
    ["2024-01-22T09:52:42-04:30", Date.parse("2024-01-22T14:22:42Z"), 0],
    ["2024-01-22T14:22:42-00:00", Date.parse("2024-01-22T14:22:42Z"), 0],
    ["2024-02-29T00:00:00Z", Date.parse("2024-02-29T00:00:00Z"), 0],
    ["2000-02-29T23:59:59Z", Date.parse("2000-02-29T23:59:59Z"), 0],
    ["0001-01-01T00:00:00Z", Date.parse("0001-01-01T00:00:00Z"), 0],
    ["0001-01-01T00:01:00+00:01", Date.parse("0001-01-01T00:00:00Z"), 0],
    ["9999-12-31T23:59:59.999Z", Date.parse("9999-12-31T23:59:59.999Z"), 0],
    ["9999-12-31T23:58:59.999000-00:01", Date.parse("9999-12-31T23:59:59.999Z"), 0],
    ["9999-12-31T23:59:59.999999999+23:59", Date.parse("9999-12-31T00:00:59.999Z"), 999_999],
    ["1969-12-31T23:59:59.9995Z", -1, 500_000],
  ];
  it.each(valid)("accepts %s", (text, ms, nanos) => {
    expect(parseTimestamp(text)).toEqual({ ok: true, instant: { ms, nanos } });
  });

  const invalid: [string, RegExp][] = [
    ["2024-01-22", /expected YYYY/],
    ["2024-01-22T14:22:42", /expected YYYY/],
    ["2024-01-22 14:22:42Z", /expected YYYY/],
    ["2024-01-22t14:22:42Z", /^the T and the Z must be upper-case$/],
    ["2024-01-22T14:22:42z", /^the T and the Z must be upper-case$/],
    // Well-formed, but outside years 0001–9999 once the offset is applied (issue 12).
    ["0000-01-01T00:00:00+00:01", /must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z$/],
    ["0000-12-31T23:59:59.999999999Z", /must lie between/],
    ["0001-01-01T00:00:00+00:01", /must lie between/],
    ["9999-12-31T23:59:59-00:01", /must lie between/],
    ["9999-12-31T23:59:59.999000001Z", /must lie between/],
    ["2024-01-22T4:22:42Z", /expected YYYY/],
    ["2024-01-22T14:22:42,5Z", /expected YYYY/],
    ["2024-01-22T14:22:42.Z", /expected YYYY/],
    ["2024-01-22T14:22:42+0100", /expected YYYY/],
    ["+002024-01-22T14:22:42Z", /expected YYYY/],
    ["2024-01-22T14:22:42.1234567891Z", /more than 9 fractional digits/],
    ["2024-13-01T00:00:00Z", /month out of range/],
    ["2024-00-01T00:00:00Z", /month out of range/],
    ["2023-02-29T00:00:00Z", /day out of range/],
    ["1900-02-29T00:00:00Z", /day out of range/],
    ["2024-04-31T00:00:00Z", /day out of range/],
    ["2024-01-22T24:00:00Z", /hour out of range/],
    ["2024-01-22T14:60:00Z", /minute out of range/],
    ["2024-01-22T14:22:60Z", /second out of range/],
    ["2024-01-22T14:22:42+24:00", /time zone hour out of range/],
    ["2024-01-22T14:22:42+01:60", /time zone minute out of range/],
    ["２０２４-01-22T14:22:42Z", /expected YYYY/],
    ["", /expected YYYY/],
  ];
  it.each(invalid)("rejects %s", (text, reason) => {
    const parsed = parseTimestamp(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it("the validation message echoes a bounded excerpt of a bad timestamp", () => {
    const [message] = errorsOf({ ...OK, started_before: `2024-01-22T${"9".repeat(100_000)}` });
    expect(message!.length).toBeLessThan(300);
    expect(message).toMatch(/^started_before is not an RFC 3339 timestamp: "2024-01-22T9+…"/);
  });

  it("takes exactly what the oracle takes over RFC 3339 edge cases, and validation names every refusal (property)", () => {
    fc.assert(
      fc.property(rfc3339Text, (text) => {
        const expected = expectedInstant(text);
        const parsed = parseTimestamp(text);
        expect(parsed.ok ? parsed.instant : undefined, text).toEqual(expected);
        // Every taken instant is written back and read again to the same millisecond.
        if (parsed.ok) expect(parseTimestamp(formatTimestamp(parsed.instant.ms))).toEqual({ ok: true, instant: { ms: parsed.instant.ms, nanos: 0 } });
        for (const field of ["started_after", "started_before"] as const) {
          const body = { app_id: "a", function_id: "f", started_before: "9999-12-31T23:59:59.999Z", [field]: text };
          let request: ReturnType<typeof validateCancellationRequest> | undefined;
          try {
            request = validateCancellationRequest(body, { now: Date.parse("9999-12-31T23:59:59.999Z") });
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            expect((error as ValidationError).errors.some((message) => message.startsWith(field))).toBe(true);
          }
          if (request === undefined) continue;
          expect(expected).toBeDefined();
          // A validated request always fits the wire: its record can be written back.
          const wire = toWireCancellation({ ...RECORD, startedBefore: request.startedBefore, ...(request.startedAfter !== undefined ? { startedAfter: request.startedAfter } : {}) });
          expect(wire.unreadable).toBeUndefined();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every instant written in any offset (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("0001-01-02T00:00:00Z"), max: Date.parse("9999-12-30T00:00:00Z") }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (ms, nanos, offset) => {
          const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
          const fraction = String((ms % 1000 + 1000) % 1000 * 1_000_000 + nanos).padStart(9, "0");
          const abs = Math.abs(offset);
          const zone = `${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          expect(parseTimestamp(`${local}.${fraction}${zone}`)).toEqual({ ok: true, instant: { ms, nanos } });
        },
      ),
    );
  });

  it("sub-millisecond bounds keep exactly the runs the nanosecond window holds (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -1, max: 7 }),
        (afterMs, afterNs, beforeMs, beforeNs, run) => {
          const base = Date.parse("2024-01-22T14:22:42.000Z");
          const text = (ms: number, ns: number) => `2024-01-22T14:22:42.${String(ms * 1_000_000 + ns).padStart(9, "0")}Z`;
          const a = afterMs * 1_000_000 + afterNs;
          const b = beforeMs * 1_000_000 + beforeNs;
          fc.pre(a <= b);
          const request = validateCancellationRequest({ ...OK, started_after: text(afterMs, afterNs), started_before: text(beforeMs, beforeNs) }, { now: NOW });
          const inside = a <= run * 1_000_000 && run * 1_000_000 <= b;
          expect(request.startedAfter! <= base + run && base + run <= request.startedBefore).toBe(inside);
        },
      ),
    );
  });
});

describe("wire record and request hash", () => {
  it("formats timestamps as RFC 3339 UTC with milliseconds", () => {
    expect(formatTimestamp(Date.parse("2024-01-22T14:22:42.13Z"))).toBe("2024-01-22T14:22:42.130Z");
    expect(formatTimestamp(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatTimestamp(Date.parse("0001-01-01T00:00:00Z"))).toBe("0001-01-01T00:00:00.000Z");
    expect(formatTimestamp(Date.parse("9999-12-31T23:59:59.999Z"))).toBe("9999-12-31T23:59:59.999Z");
    expect(() => formatTimestamp(Date.parse("0000-12-31T23:59:59.999Z"))).toThrow(RangeError);
    expect(() => formatTimestamp(Date.parse("+010000-01-01T00:00:00Z"))).toThrow(RangeError);
  });

  it("writes a stored record holding an out-of-span or non-finite timestamp with that field null and `unreadable`, never throwing", () => {
    const wire = toWireCancellation({ ...RECORD, startedAfter: -62_167_219_260_000, createdAt: Number.NaN, updatedAt: 253_402_300_800_000 });
    expect(wire).toMatchObject({ started_after: null, started_before: formatTimestamp(NOW), created_at: null, updated_at: null });
    expect(wire.unreadable).toBe(
      "started_after: the stored value -62167219260000 (epoch ms) lies outside years 0001-9999; " +
        "created_at: the stored value NaN (epoch ms) lies outside years 0001-9999; " +
        "updated_at: the stored value 253402300800000 (epoch ms) lies outside years 0001-9999",
    );
    expect("unreadable" in toWireCancellation(RECORD)).toBe(false);
  });

  it("serialises a record with the wire names, null for absent bounds and expression", () => {
    const wire = toWireCancellation({
      id: "01HMRMPE5ZQ4AMNJ3S2N79QGRZ",
      environmentId: "e03843e1-d2df-419e-9b7b-678b03f7398f",
      appId: "acme-app",
      functionId: "schedule-reminder",
      startedBefore: Date.parse("2024-01-22T14:22:42.130Z"),
      createdAt: Date.parse("2024-01-22T15:00:00Z"),
      updatedAt: Date.parse("2024-01-22T15:00:01Z"),
      status: "running",
      counts: { scanned: 3, cancelled: 1, skipped_terminal: 1, not_matched: 1, expression_error: 0, non_boolean: 0 },
      settings: { batchSize: 500, ratePerSecond: 1500 },
    });
    expect(wire).toEqual({
      id: "01HMRMPE5ZQ4AMNJ3S2N79QGRZ",
      environment_id: "e03843e1-d2df-419e-9b7b-678b03f7398f",
      app_id: "acme-app",
      function_id: "schedule-reminder",
      started_after: null,
      started_before: "2024-01-22T14:22:42.130Z",
      if: null,
      created_at: "2024-01-22T15:00:00.000Z",
      updated_at: "2024-01-22T15:00:01.000Z",
      status: "running",
      counts: { scanned: 3, cancelled: 1, skipped_terminal: 1, not_matched: 1, expression_error: 0, non_boolean: 0 },
      batch_size: 500,
      rate_per_second: 1500,
      max_runs: null,
      paused: false,
    });
    expect(Object.keys(wire)).toEqual([
      "id",
      "environment_id",
      "app_id",
      "function_id",
      "started_after",
      "started_before",
      "if",
      "created_at",
      "updated_at",
      "status",
      "counts",
      "batch_size",
      "rate_per_second",
      "max_runs",
      "paused",
    ]);
  });

  it("hashes equivalent requests alike and different ones apart", () => {
    const hash = (b: unknown) => requestHash(validateCancellationRequest(b, { now: NOW }));
    const base = hash({ ...OK, started_after: "2024-01-21T18:23:12Z", if: "true" });
    expect(hash({ if: "true", started_after: "2024-01-21T19:23:12.000+01:00", ...OK })).toBe(base);
    // Same whole-millisecond window: the same runs.
    expect(hash({ ...OK, started_after: "2024-01-21T18:23:11.9999Z", if: "true" })).toBe(base);
    expect(hash({ ...OK, started_after: "2024-01-21T18:23:12.001Z", if: "true" })).not.toBe(base);
    expect(hash({ ...OK, started_after: "2024-01-21T18:23:12Z", if: "true " })).not.toBe(base);
    expect(hash({ ...OK, started_after: "2024-01-21T18:23:12Z" })).not.toBe(base);
    expect(hash({ ...OK, app_id: "other", started_after: "2024-01-21T18:23:12Z", if: "true" })).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
