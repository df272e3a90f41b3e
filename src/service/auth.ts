/**
 * Signing keys: `Authorization: Bearer <signing key>`, each key belonging to one environment.
 *
 * Keys are compared in constant time: both the presented key and every configured key are hashed
 * with SHA-256 and compared with `timingSafeEqual`, always against every configured key, so that
 * neither the length of a key nor the position of the first differing byte nor which key matched
 * shows in the response time.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { malformedJsonMessage } from "./json-body.js";

/** Environment variable holding signing keys: JSON `{ "<key>": "<environment>" }` or `key=env,key2=env2`. */
export const SIGNING_KEYS_ENV = "CANCELKIT_SIGNING_KEYS";

/** Environment of the development key generated when no keys are configured. */
export const DEV_ENVIRONMENT_ID = "dev";

/** Longest signing key accepted, in characters. */
export const MAX_SIGNING_KEY_LENGTH = 1024;

/** Longest environment id accepted, in characters. */
const MAX_ENVIRONMENT_ID_LENGTH = 128;

/** A signing-key configuration that cannot be used (bad JSON, an empty key, a key shared by two environments). */
export class SigningKeyError extends Error {
  override readonly name = "SigningKeyError";
}

/** Outcome of checking an `Authorization` header. */
export type AuthResult =
  | { readonly ok: true; readonly environmentId: string }
  /** `missing`: no usable `Bearer` header; `invalid`: a key that is not configured. */
  | { readonly ok: false; readonly reason: "missing" | "invalid" };

interface KeyEntry {
  readonly digest: Buffer;
  readonly environmentId: string;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function checkKey(key: string, source: string): void {
  if (key.length === 0) throw new SigningKeyError(`${source}: a signing key is empty`);
  if (key.length > MAX_SIGNING_KEY_LENGTH) throw new SigningKeyError(`${source}: a signing key is longer than ${MAX_SIGNING_KEY_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(key)) throw new SigningKeyError(`${source}: a signing key must be printable ASCII without spaces`);
}

function checkEnvironment(environmentId: unknown, source: string): asserts environmentId is string {
  if (typeof environmentId !== "string" || environmentId.length === 0 || environmentId.length > MAX_ENVIRONMENT_ID_LENGTH) {
    throw new SigningKeyError(`${source}: an environment id must be a non-empty string of at most ${MAX_ENVIRONMENT_ID_LENGTH} characters`);
  }
}

/** The configured signing keys and the environment each belongs to. */
export class SigningKeys {
  readonly #entries: readonly KeyEntry[];
  readonly #environments: readonly string[];

  /**
   * @param keys - Signing key → environment id. Keys are 1 to 1024 printable ASCII characters.
   * @param source - Where the keys came from, for error messages. Default `'signing keys'`.
   * @throws {@link SigningKeyError} for an empty or malformed key or environment id.
   */
  constructor(keys: Readonly<Record<string, string>> | Iterable<readonly [string, string]>, source = "signing keys") {
    const pairs: (readonly [string, string])[] = Symbol.iterator in keys ? [...(keys as Iterable<readonly [string, string]>)] : Object.entries(keys);
    const seen = new Map<string, string>();
    for (const [key, environmentId] of pairs) {
      if (typeof key !== "string") throw new SigningKeyError(`${source}: a signing key must be a string`);
      checkKey(key, source);
      checkEnvironment(environmentId, source);
      const before = seen.get(key);
      if (before !== undefined && before !== environmentId) throw new SigningKeyError(`${source}: one signing key is given for two environments`);
      seen.set(key, environmentId);
    }
    this.#entries = [...seen].map(([key, environmentId]) => ({ digest: sha256(key), environmentId }));
    this.#environments = [...new Set(seen.values())];
  }

  /** Number of configured keys. */
  get size(): number {
    return this.#entries.length;
  }

  /** The environments that have at least one key, in configuration order. */
  get environments(): readonly string[] {
    return this.#environments;
  }

  /**
   * Parses keys from text: a JSON object `{ "<key>": "<environment>" }`, or a comma-separated
   * list `key=env,key2=env2` (whitespace around items ignored).
   *
   * @throws {@link SigningKeyError} when the text is neither, or holds a bad key.
   */
  static parse(text: string, source: string): SigningKeys {
    const trimmed = text.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        // JSON.parse's own message would quote the text: the keys themselves.
        throw new SigningKeyError(`${source}: not valid JSON (${malformedJsonMessage(trimmed)})`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new SigningKeyError(`${source}: expected a JSON object { "<signing key>": "<environment id>" }`);
      }
      const pairs: [string, string][] = [];
      for (const [key, value] of Object.entries(parsed)) {
        if (typeof value !== "string") throw new SigningKeyError(`${source}: the environment of each key must be a string`);
        pairs.push([key, value]);
      }
      return new SigningKeys(pairs, source);
    }
    const pairs: [string, string][] = [];
    for (const item of trimmed.split(",")) {
      const part = item.trim();
      if (part === "") continue;
      const equals = part.lastIndexOf("=");
      if (equals <= 0 || equals === part.length - 1) {
        throw new SigningKeyError(`${source}: expected key=environment items separated by commas, or a JSON object`);
      }
      pairs.push([part.slice(0, equals).trim(), part.slice(equals + 1).trim()]);
    }
    return new SigningKeys(pairs, source);
  }

  /**
   * Reads keys from a JSON file `{ "<key>": "<environment>" }` (the `key=env` list form is
   * accepted too).
   *
   * @throws {@link SigningKeyError} when the file cannot be read or parsed.
   */
  static async fromFile(path: string): Promise<SigningKeys> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new SigningKeyError(`cannot read keys file ${path}: ${(error as Error).message}`);
    }
    return SigningKeys.parse(text, path);
  }

  /**
   * Checks an `Authorization` header value (`Bearer <key>`, scheme case-insensitive) against every
   * configured key in constant time.
   */
  authenticate(header: string | undefined): AuthResult {
    if (header === undefined) return { ok: false, reason: "missing" };
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { ok: false, reason: "missing" };
    const key = match[1]!;
    if (key.length > MAX_SIGNING_KEY_LENGTH) return { ok: false, reason: "invalid" };
    const presented = sha256(key);
    let found: string | undefined;
    // No early exit: every configured key is compared whatever matched.
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.environmentId;
    }
    return found === undefined ? { ok: false, reason: "invalid" } : { ok: true, environmentId: found };
  }
}

/** A freshly generated development key: `signkey-dev-` and 32 random hex digits. */
export function generateDevKey(): string {
  return `signkey-dev-${randomBytes(16).toString("hex")}`;
}

/** Where signing keys come from, in order of precedence. */
export interface LoadSigningKeysOptions {
  /** A JSON file `{ "<key>": "<environment>" }`; wins over the environment variable. Default: none. */
  readonly keysFile?: string;
  /** Environment variables to read {@link SIGNING_KEYS_ENV} from. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Where the development key is kept when no keys are configured: read when the file exists,
   * else generated and written there (mode 0600, its folder created), so that the key, and a curl
   * command copied with it, survive a restart. Default: none (a new key at every call).
   */
  readonly devKeyFile?: string;
}

/** Loaded keys; `devKey` is set when none were configured and a development key was generated. */
export interface LoadedSigningKeys {
  readonly keys: SigningKeys;
  /** The development key (environment {@link DEV_ENVIRONMENT_ID}), if no keys were configured. */
  readonly devKey?: string;
  /** Whether {@link devKey} was read from `devKeyFile` (kept from an earlier start) rather than generated now. */
  readonly devKeyReused?: boolean;
  /** Where the keys came from: the file path, the variable name, or `generated`. */
  readonly source: string;
}

/**
 * Loads signing keys from `keysFile`, else from {@link SIGNING_KEYS_ENV}, else uses a development
 * key for environment `dev`: the one kept in `devKeyFile`, or a new one.
 *
 * @throws {@link SigningKeyError} for an unreadable or malformed configuration, or one with no keys.
 */
export async function loadSigningKeys(options: LoadSigningKeysOptions = {}): Promise<LoadedSigningKeys> {
  const env = options.env ?? process.env;
  if (options.keysFile !== undefined) {
    const keys = await SigningKeys.fromFile(options.keysFile);
    if (keys.size === 0) throw new SigningKeyError(`${options.keysFile}: no signing keys`);
    return { keys, source: options.keysFile };
  }
  const text = env[SIGNING_KEYS_ENV];
  if (text !== undefined && text.trim() !== "") {
    const keys = SigningKeys.parse(text, SIGNING_KEYS_ENV);
    if (keys.size === 0) throw new SigningKeyError(`${SIGNING_KEYS_ENV}: no signing keys`);
    return { keys, source: SIGNING_KEYS_ENV };
  }
  if (options.devKeyFile === undefined) {
    const devKey = generateDevKey();
    return { keys: new SigningKeys([[devKey, DEV_ENVIRONMENT_ID]], "generated"), devKey, source: "generated" };
  }
  const { key: devKey, reused } = await keptDevKey(options.devKeyFile);
  return { keys: new SigningKeys([[devKey, DEV_ENVIRONMENT_ID]], options.devKeyFile), devKey, devKeyReused: reused, source: options.devKeyFile };
}

/** The development key kept in `file`, written there first when the file does not exist. */
async function keptDevKey(file: string): Promise<{ readonly key: string; readonly reused: boolean }> {
  for (let attempt = 0; ; attempt++) {
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new SigningKeyError(`${file}: cannot read the development key (${(error as Error).message})`);
      }
    }
    if (text !== undefined) {
      const key = text.trim();
      if (key === "" || key.length > MAX_SIGNING_KEY_LENGTH || /[^\x21-\x7e]/.test(key)) {
        throw new SigningKeyError(`${file}: not a development key (one line of printable ASCII); delete the file to generate a new one`);
      }
      return { key, reused: true };
    }
    const key = generateDevKey();
    try {
      await mkdir(dirname(file), { recursive: true });
      // `wx`: when two services start at once, the second one reads the first one's key.
      await writeFile(file, `${key}\n`, { flag: "wx", mode: 0o600 });
      return { key, reused: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt === 0) continue;
      throw new SigningKeyError(`${file}: cannot keep the development key (${(error as Error).message})`);
    }
  }
}
