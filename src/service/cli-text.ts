/**
 * Texts of the CLI that speak the user's terms: validation messages naming the flags rather than
 * the API's fields, and printed follow-up commands that carry the store flags the user gave.
 *
 * @module
 */
import { CancellationNotFoundError, ConflictError, ValidationError } from "../cancel/errors.js";
import { CompileError } from "../expr/errors.js";
import { StoreError } from "../stores/types.js";
import { SigningKeyError } from "./auth.js";
import { StoreLocationError } from "./store.js";

/** A usage error found by the CLI itself (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The store flags of a command, as given. */
export interface StoreFlagValues {
  readonly db?: string;
  readonly postgres?: string;
}

/** `text` quoted for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The store flags to repeat in a follow-up command. A PostgreSQL URL's password is not printed:
 * it shows as `***` (and `hasRedaction` says so), the rest of the URL as given.
 */
export function storeFlagArgs(flags: StoreFlagValues): { readonly args: readonly string[]; readonly hasRedaction: boolean } {
  if (flags.db !== undefined) return { args: ["--db", flags.db], hasRedaction: false };
  if (flags.postgres === undefined) return { args: [], hasRedaction: false };
  try {
    const url = new URL(flags.postgres);
    if (url.password === "") return { args: ["--postgres", flags.postgres], hasRedaction: false };
    url.password = "***";
    return { args: ["--postgres", url.toString()], hasRedaction: true };
  } catch {
    return { args: ["--postgres", flags.postgres], hasRedaction: false };
  }
}

/** A `cancelkit` command line with the store flags of `flags` appended, quoted for a shell. */
export function followUpCommand(args: readonly string[], flags: StoreFlagValues): string {
  const store = storeFlagArgs(flags);
  const line = ["cancelkit", ...args, ...store.args].map((arg) => (arg.startsWith("<") && arg.endsWith(">") ? arg : shellQuote(arg))).join(" ");
  return store.hasRedaction ? `${line}   (with the password in place of ***)` : line;
}

/** The API's request fields and the `cancel` flags that set them. */
const FIELD_FLAGS: readonly (readonly [field: string, flag: string])[] = [
  ["app_id", "--app"],
  ["function_id", "--function"],
  ["started_after", "--after"],
  ["started_before", "--before"],
];

/**
 * A validation failure of the request that `cancel` built, in terms of its flags:
 * `app_id is required` → `--app is required`, `started_after must be before started_before` →
 * `--after must be before --before`, `invalid expression: …` → `--if: invalid expression: …`.
 * Only the first line of a failure is rewritten (later lines may quote the expression).
 */
export function inFlagTerms(failure: string): string {
  if (failure.startsWith("invalid expression:")) return `--if: ${failure}`;
  const newline = failure.indexOf("\n");
  let head = newline === -1 ? failure : failure.slice(0, newline);
  const rest = newline === -1 ? "" : failure.slice(newline);
  for (const [field, flag] of FIELD_FLAGS) head = head.replace(new RegExp(`(^|[\\s(])${field}\\b`, "g"), `$1${flag}`);
  return head + rest;
}

/** Exit code and message lines for an error that ended a command. */
export function describeFailure(error: unknown): { readonly code: number; readonly message: string } {
  if (error instanceof UsageError || error instanceof SigningKeyError || error instanceof StoreLocationError) return { code: 2, message: error.message };
  if (error instanceof ValidationError) return { code: 2, message: error.message };
  if (error instanceof ConflictError) return { code: 2, message: error.message };
  if (error instanceof CancellationNotFoundError) return { code: 2, message: `cancellation ${error.cancellationId} not found` };
  if (error instanceof CompileError) return { code: 2, message: error.message };
  // RunFileError, by name: its module (MessagePack) is loaded only by the file commands.
  if (error instanceof StoreError && error.name === "RunFileError") {
    return { code: 2, message: `${error.message} (nothing was imported)` };
  }
  if (error instanceof StoreError) return { code: error.code === "storage" || error.code === "closed" || error.code === "locked" ? 1 : 2, message: error.message };
  if (error instanceof RangeError || error instanceof TypeError) return { code: 2, message: error.message };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "EEXIST" || code === "ENOTDIR") {
    return { code: 2, message: (error as Error).message };
  }
  return { code: 1, message: error instanceof Error ? error.message : String(error) };
}

