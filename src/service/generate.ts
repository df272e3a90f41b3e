/**
 * Realistic synthetic runs, for trying cancelkit out and for benchmarks: a few apps and functions,
 * each with its own event name and payload shape, start times spread over a span of days in
 * ascending order, ULID run ids carrying the start time, and statuses that depend on age (old runs
 * have mostly finished, recent ones mostly not). The output is deterministic for a seed and an
 * end time.
 *
 * @module
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { RunFileFormat } from "../formats/msgpack.js";
import { DEFAULT_ENVIRONMENT_ID, type RunRecord, type RunStatus } from "../stores/types.js";

/** The user id of Inngest's bulk-cancellation example, given to a share of the generated runs. */
export const EXAMPLE_USER_ID = "user_o9235hf84hf";

/** A seeded pseudo-random source of numbers in [0, 1) (mulberry32). */
export type Random = () => number;

/** Creates a seeded {@link Random}. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID for a time, its random part drawn from `random` (so that output is reproducible). */
export function ulidAt(ms: number, random: Random): string {
  let time = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rest = "";
  for (let i = 0; i < 16; i++) rest += CROCKFORD[Math.floor(random() * 32)]!;
  return time + rest;
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const PLANS = ["free", "starter", "pro", "team", "enterprise"];
const REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];
const TIMEZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"];
const CHANNELS = ["email", "sms", "push"];
const CURRENCIES = ["USD", "EUR", "GBP"];
const LOCALES = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP"];
const FAILURE_REASONS = ["card_declined", "insufficient_funds", "expired_card", "processing_error"];

/** What a payload builder gets: the random source, the run's user, start time and index. */
export interface PayloadContext {
  readonly random: Random;
  readonly userId: string;
  readonly startedAt: number;
  readonly index: number;
}

/** One generated function: where it lives, what triggers it, its payload and its share of runs. */
export interface GeneratedFunction {
  readonly appId: string;
  readonly functionId: string;
  readonly eventName: string;
  /** Relative share of runs. */
  readonly weight: number;
  readonly data: (context: PayloadContext) => Record<string, unknown>;
  /**
   * The run's status at time `end`, from its payload; by default by age (older runs have mostly
   * finished).
   */
  readonly status?: (data: Record<string, unknown>, end: number, random: Random) => RunStatus;
}

function email(context: PayloadContext): string {
  return `${context.userId.slice(5, 13)}@${pick(context.random, ["example.com", "acme.io", "mail.test"])}`;
}

/** The functions {@link generateRuns} draws from. */
export const GENERATED_FUNCTIONS: readonly GeneratedFunction[] = [
  {
    appId: "acme-app",
    functionId: "schedule-reminder",
    eventName: "app/reminder.scheduled",
    weight: 35,
    data: (c) => ({
      userId: c.userId,
      reminderId: `rem_${(c.index * 7919 + 13).toString(36)}`,
      channel: pick(c.random, CHANNELS),
      remindAt: new Date(c.startedAt + Math.floor(c.random() * 4 * 86_400_000)).toISOString(),
      timezone: pick(c.random, TIMEZONES),
      message: pick(c.random, ["Your trial ends soon", "Team standup in 15 minutes", "Renew your subscription", "Complete your profile"]),
      plan: pick(c.random, PLANS),
    }),
    // A reminder run sleeps until its reminder is due, then sends it and finishes.
    status: (data, end, random) => {
      if (Date.parse(data["remindAt"] as string) > end) return random() < 0.9 ? "sleeping" : "queued";
      const roll = random();
      return roll < 0.9 ? "completed" : roll < 0.97 ? "failed" : "cancelled";
    },
  },
  {
    appId: "acme-app",
    functionId: "send-digest",
    eventName: "app/digest.requested",
    weight: 15,
    data: (c) => ({
      userId: c.userId,
      email: email(c),
      frequency: pick(c.random, ["daily", "weekly"]),
      items: Array.from({ length: 1 + Math.floor(c.random() * 4) }, (_, i) => ({
        id: `post_${(c.index * 31 + i).toString(36)}`,
        score: Math.round(c.random() * 1000) / 10,
      })),
    }),
  },
  {
    appId: "acme-app",
    functionId: "sync-crm",
    eventName: "crm/contact.updated",
    weight: 15,
    data: (c) => ({
      userId: c.userId,
      contactId: `ct_${(c.index * 104_729).toString(36)}`,
      source: pick(c.random, ["hubspot", "salesforce", "import"]),
      fields: { email: email(c), plan: pick(c.random, PLANS), region: pick(c.random, REGIONS), seats: 1 + Math.floor(c.random() * 50) },
    }),
  },
  {
    appId: "billing-app",
    functionId: "charge-invoice",
    eventName: "billing/invoice.created",
    weight: 15,
    data: (c) => {
      const lines = Array.from({ length: 1 + Math.floor(c.random() * 3) }, () => ({
        sku: `sku-${1000 + Math.floor(c.random() * 9000)}`,
        quantity: 1 + Math.floor(c.random() * 5),
        unitAmount: Math.round(c.random() * 20_000) / 100,
      }));
      return {
        customerId: c.userId.replace("user_", "cus_"),
        invoiceId: `in_${(c.index * 6151).toString(36)}`,
        currency: pick(c.random, CURRENCIES),
        amount: Math.round(lines.reduce((sum, line) => sum + line.quantity * line.unitAmount, 0) * 100) / 100,
        plan: pick(c.random, PLANS),
        lineItems: lines,
      };
    },
  },
  {
    appId: "billing-app",
    functionId: "retry-payment",
    eventName: "billing/payment.failed",
    weight: 10,
    data: (c) => ({
      customerId: c.userId.replace("user_", "cus_"),
      invoiceId: `in_${(c.index * 6151).toString(36)}`,
      attempt: 1 + Math.floor(c.random() * 4),
      reason: pick(c.random, FAILURE_REASONS),
    }),
  },
  {
    appId: "notify-app",
    functionId: "send-push",
    eventName: "notify/push.requested",
    weight: 10,
    data: (c) => ({
      userId: c.userId,
      deviceId: `dev_${Math.floor(c.random() * 1e9).toString(36)}`,
      platform: pick(c.random, ["ios", "android", "web"]),
      title: pick(c.random, ["New comment", "Build finished", "Payment received"]),
      badge: Math.floor(c.random() * 10),
    }),
  },
];

/** Options of {@link generateRuns}. */
export interface GenerateOptions {
  /** Number of runs. */
  readonly count: number;
  /** Seed of the pseudo-random source. Default 1. */
  readonly seed?: number;
  /** Latest start time, epoch ms. Default `Date.now()`. */
  readonly end?: number;
  /** Span of start times before `end`, ms. Default 7 days. */
  readonly spanMs?: number;
  /** Environment of the runs. Default `'default'`. */
  readonly environmentId?: string;
  /** Share of runs whose user is {@link EXAMPLE_USER_ID}, 0 to 1. Default 0.08. */
  readonly exampleUserShare?: number;
  /** Only these functions (by `functionId`). Default: all of {@link GENERATED_FUNCTIONS}. */
  readonly functions?: readonly string[];
}

const NON_TERMINAL: readonly RunStatus[] = ["running", "running", "queued", "sleeping", "waiting"];

/** A status for a run of a given age: runs older than a day have mostly finished. */
function statusFor(ageMs: number, random: Random): RunStatus {
  const finishedShare = ageMs > 86_400_000 ? 0.85 : ageMs > 3_600_000 ? 0.45 : 0.1;
  if (random() < finishedShare) {
    const roll = random();
    return roll < 0.82 ? "completed" : roll < 0.95 ? "failed" : "cancelled";
  }
  return pick(random, NON_TERMINAL);
}

/**
 * Yields `count` runs in ascending start-time order, spread over `spanMs` before `end`.
 *
 * @throws RangeError for a negative or non-integer count, an empty function list, or a bad span.
 */
export function* generateRuns(options: GenerateOptions): Generator<RunRecord> {
  const { count } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${String(count)}`);
  const end = options.end ?? Date.now();
  const spanMs = options.spanMs ?? 7 * 86_400_000;
  if (!Number.isFinite(spanMs) || spanMs < 0) throw new RangeError("spanMs must be a non-negative number");
  const share = options.exampleUserShare ?? 0.08;
  if (!(share >= 0 && share <= 1)) throw new RangeError("exampleUserShare must lie between 0 and 1");
  const functions = options.functions === undefined ? GENERATED_FUNCTIONS : GENERATED_FUNCTIONS.filter((f) => options.functions!.includes(f.functionId));
  if (functions.length === 0) {
    throw new RangeError(`no such generated function; known: ${GENERATED_FUNCTIONS.map((f) => f.functionId).join(", ")}`);
  }
  const totalWeight = functions.reduce((sum, f) => sum + f.weight, 0);
  const random = seededRandom(options.seed ?? 1);
  const environmentId = options.environmentId ?? DEFAULT_ENVIRONMENT_ID;
  const start = end - Math.floor(spanMs);
  // A pool of users, so that the same user shows up in many runs, as in real traffic.
  const users = Array.from({ length: 2000 }, (_, i) => `user_${(i * 2_654_435_761 + 97).toString(36).padStart(7, "0").slice(-11)}`);
  for (let index = 0; index < count; index++) {
    const startedAt = count === 1 ? end : start + Math.floor(((end - start) * index) / Math.max(1, count - 1));
    let roll = random() * totalWeight;
    let fn = functions[functions.length - 1]!;
    for (const candidate of functions) {
      roll -= candidate.weight;
      if (roll < 0) {
        fn = candidate;
        break;
      }
    }
    const userId = random() < share ? EXAMPLE_USER_ID : pick(random, users);
    const context: PayloadContext = { random, userId, startedAt, index };
    const data = fn.data(context);
    const status = fn.status === undefined ? statusFor(end - startedAt, random) : fn.status(data, end, random);
    yield {
      id: ulidAt(startedAt, random),
      environmentId,
      appId: fn.appId,
      functionId: fn.functionId,
      startedAt,
      status,
      event: {
        name: fn.eventName,
        id: ulidAt(startedAt - 40, random),
        ts: startedAt - 40 - Math.floor(random() * 200),
        data,
        user: { id: userId, locale: pick(random, LOCALES) },
      },
    };
  }
}

/** Bytes gathered before each write. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/**
 * Writes runs to a run file (MessagePack, or JSON Lines for `.jsonl`/`.ndjson`; see
 * `cancelkit/formats/msgpack` for the format), streaming: memory stays flat for any count. The file
 * appears complete or not at all (written to a temporary file, then renamed).
 *
 * @returns How many runs were written.
 */
export async function writeRunFile(
  path: string,
  runs: Iterable<RunRecord> | AsyncIterable<RunRecord>,
  options: { readonly format?: RunFileFormat } = {},
): Promise<{ readonly written: number }> {
  // Loaded here: generating runs alone needs no MessagePack.
  const [{ Encoder }, { RUN_FILE_FORMAT, RUN_FILE_VERSION, runFileFormatOf }] = await Promise.all([import("@msgpack/msgpack"), import("../formats/msgpack.js")]);
  const format = options.format ?? runFileFormatOf(path);
  const temporary = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const out = createWriteStream(temporary, { flags: "wx" });
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => undefined);
  const encoder = new Encoder();
  const chunks: Buffer[] = [];
  let pending = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (pending === 0) return;
    const chunk = Buffer.concat(chunks, pending);
    chunks.length = 0;
    pending = 0;
    if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
  };
  const push = async (bytes: Uint8Array): Promise<void> => {
    chunks.push(Buffer.from(bytes));
    pending += bytes.length;
    if (pending >= WRITE_CHUNK_BYTES) await flush();
  };
  try {
    await Promise.race([once(out, "open"), failed]);
    if (format === "msgpack") await push(encoder.encode({ format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION }));
    for await (const run of runs) {
      if (format === "msgpack") {
        const record: Record<string, unknown> = {
          i: run.id,
          e: run.environmentId ?? DEFAULT_ENVIRONMENT_ID,
          a: run.appId,
          f: run.functionId,
          t: run.startedAt,
          s: run.status,
          v: run.event,
        };
        if (run.cancellationId !== undefined) record["c"] = run.cancellationId;
        await push(encoder.encode(record));
      } else {
        await push(Buffer.from(`${JSON.stringify(run)}\n`, "utf8"));
      }
      written++;
    }
    await flush();
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
    await rename(temporary, path);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
  return { written };
}
