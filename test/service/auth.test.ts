/** Signing keys: parsing the configuration forms, and authentication against every key. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_ENVIRONMENT_ID, SIGNING_KEYS_ENV, SigningKeyError, SigningKeys, loadSigningKeys } from "../../src/service/auth.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SigningKeys", () => {
  it("parses JSON and key=env lists", () => {
    const json = SigningKeys.parse('{ "signkey-prod-1": "prod", "signkey-test-2": "test" }', "x");
    expect(json.size).toBe(2);
    expect(json.environments).toEqual(["prod", "test"]);
    expect(json.authenticate("Bearer signkey-prod-1")).toEqual({ ok: true, environmentId: "prod" });
    const list = SigningKeys.parse(" k1=prod , k2=test,k3=prod ", "x");
    expect(list.size).toBe(3);
    expect(list.authenticate("Bearer k3")).toEqual({ ok: true, environmentId: "prod" });
    expect(list.authenticate("Bearer k2")).toEqual({ ok: true, environmentId: "test" });
  });

  it("rejects malformed configurations with a clear error", () => {
    expect(() => SigningKeys.parse("{ not json", "keys.json")).toThrow(SigningKeyError);
    // Malformed JSON is described by position: JSON.parse's own message would quote the keys (issue 12).
    expect(() => SigningKeys.parse('{ "signkey-prod-0123456789abcdef": prod }', "CANCELKIT_SIGNING_KEYS")).toThrow(
      new SigningKeyError("CANCELKIT_SIGNING_KEYS: not valid JSON (malformed JSON at line 1, column 36: expected a value)"),
    );
    expect(() => SigningKeys.parse("[1,2]", "keys.json")).toThrow(/expected a JSON object/);
    expect(() => SigningKeys.parse('{ "k": 5 }', "keys.json")).toThrow(/must be a string/);
    expect(() => SigningKeys.parse('{ "k": "" }', "keys.json")).toThrow(/environment id/);
    expect(() => SigningKeys.parse('{ "has space": "e" }', "keys.json")).toThrow(/printable ASCII/);
    expect(() => SigningKeys.parse("k1", "env")).toThrow(/key=environment/);
    expect(() => SigningKeys.parse("=e", "env")).toThrow(SigningKeyError);
    expect(() => new SigningKeys([["k", "a"], ["k", "b"]])).toThrow(/two environments/);
  });

  it("answers missing for absent or non-Bearer headers, invalid for unknown keys", () => {
    const keys = new SigningKeys({ secret: "e" });
    expect(keys.authenticate(undefined)).toEqual({ ok: false, reason: "missing" });
    expect(keys.authenticate("")).toEqual({ ok: false, reason: "missing" });
    expect(keys.authenticate("Basic secret")).toEqual({ ok: false, reason: "missing" });
    expect(keys.authenticate("Bearer")).toEqual({ ok: false, reason: "missing" });
    expect(keys.authenticate("Bearer secret extra")).toEqual({ ok: false, reason: "missing" });
    expect(keys.authenticate("Bearer secreT")).toEqual({ ok: false, reason: "invalid" });
    expect(keys.authenticate(`Bearer ${"s".repeat(5000)}`)).toEqual({ ok: false, reason: "invalid" });
    expect(keys.authenticate("BEARER   secret  ")).toEqual({ ok: true, environmentId: "e" });
  });

  it("property: every configured key finds its environment, and nothing else authenticates", () => {
    const key = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
    fc.assert(
      fc.property(fc.dictionary(key, fc.constantFrom("a", "b", "c"), { minKeys: 1, maxKeys: 8 }), key, (config, probe) => {
        const keys = new SigningKeys(config);
        for (const [k, environmentId] of Object.entries(config)) expect(keys.authenticate(`Bearer ${k}`)).toEqual({ ok: true, environmentId });
        const result = keys.authenticate(`Bearer ${probe}`);
        if (Object.hasOwn(config, probe)) expect(result).toEqual({ ok: true, environmentId: config[probe] });
        else expect(result).toEqual({ ok: false, reason: "invalid" });
      }),
      { numRuns: 200 },
    );
  });
});

describe("loadSigningKeys", () => {
  it("reads a keys file first, then the environment variable, else generates a dev key", async () => {
    const file = join(dir, "keys.json");
    writeFileSync(file, JSON.stringify({ "signkey-prod-abc": "prod" }));
    const fromFile = await loadSigningKeys({ keysFile: file, env: { [SIGNING_KEYS_ENV]: "other=x" } });
    expect(fromFile.source).toBe(file);
    expect(fromFile.devKey).toBeUndefined();
    expect(fromFile.keys.authenticate("Bearer signkey-prod-abc")).toEqual({ ok: true, environmentId: "prod" });
    expect(fromFile.keys.authenticate("Bearer other")).toEqual({ ok: false, reason: "invalid" });

    const fromEnv = await loadSigningKeys({ env: { [SIGNING_KEYS_ENV]: "k1=prod,k2=staging" } });
    expect(fromEnv.source).toBe(SIGNING_KEYS_ENV);
    expect(fromEnv.keys.environments).toEqual(["prod", "staging"]);
    const fromEnvJson = await loadSigningKeys({ env: { [SIGNING_KEYS_ENV]: '{"k9":"prod"}' } });
    expect(fromEnvJson.keys.authenticate("Bearer k9")).toEqual({ ok: true, environmentId: "prod" });

    const generated = await loadSigningKeys({ env: {} });
    expect(generated.devKey).toMatch(/^signkey-dev-[0-9a-f]{32}$/);
    expect(generated.keys.authenticate(`Bearer ${generated.devKey}`)).toEqual({ ok: true, environmentId: DEV_ENVIRONMENT_ID });
    expect((await loadSigningKeys({ env: {} })).devKey).not.toBe(generated.devKey);

    await expect(loadSigningKeys({ keysFile: join(dir, "missing.json") })).rejects.toThrow(/cannot read keys file/);
    writeFileSync(join(dir, "empty.json"), "{}");
    await expect(loadSigningKeys({ keysFile: join(dir, "empty.json") })).rejects.toThrow(/no signing keys/);
  });
});
