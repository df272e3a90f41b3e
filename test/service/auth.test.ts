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

  describe("near misses of a real key are refused", () => {
    const PROD = "signkey-prod-7f3a9c2e41b86d05";
    const TEST = "signkey-test-0b5e8d1c97a24f36";
    const keys = new SigningKeys({ [PROD]: "prod", [TEST]: "test" });

    it.each([
      ["every proper prefix", Array.from({ length: PROD.length - 1 }, (_, n) => PROD.slice(0, n + 1))],
      ["the key with characters after it", [`${PROD}0`, `${PROD}x`, `${PROD}${PROD}`, `${PROD}-`, `${PROD}${"0".repeat(200)}`]],
      ["the key with characters before it", [`x${PROD}`, `0${PROD}`, `${TEST}${PROD}`]],
      ["the key with one character changed, dropped or doubled", [PROD.replace(/5$/, "6"), PROD.replace("prod", "Prod"), PROD.slice(1), PROD.replace("-", "--")]],
      ["the key's environment or its shared prefix alone", ["prod", "signkey-prod-", "signkey-", PROD.slice("signkey-prod-".length)]],
    ])("%s", (_what, probes) => {
      for (const probe of probes) {
        expect(probe).not.toBe(PROD);
        expect(keys.authenticate(`Bearer ${probe}`), probe).toEqual({ ok: false, reason: "invalid" });
      }
      // The real key still authenticates, so the refusals above are about the probes.
      expect(keys.authenticate(`Bearer ${PROD}`)).toEqual({ ok: true, environmentId: "prod" });
    });

    it("another environment's key authenticates as that environment, never as this one", () => {
      expect(keys.authenticate(`Bearer ${TEST}`)).toEqual({ ok: true, environmentId: "test" });
      expect(keys.authenticate(`Bearer ${PROD}`)).toEqual({ ok: true, environmentId: "prod" });
      // Keys of one environment, several keys per environment: each resolves to its own.
      const many = new SigningKeys({ [PROD]: "prod", [TEST]: "test", "signkey-prod-second": "prod" });
      expect(many.authenticate("Bearer signkey-prod-second")).toEqual({ ok: true, environmentId: "prod" });
      expect(many.authenticate(`Bearer ${TEST}`)).toEqual({ ok: true, environmentId: "test" });
      // A key configured only in another set of keys (another deployment's environment) is refused.
      expect(new SigningKeys({ [PROD]: "prod" }).authenticate(`Bearer ${TEST}`)).toEqual({ ok: false, reason: "invalid" });
    });
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
