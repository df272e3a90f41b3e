/**
 * Run generators for store tests and benchmarks: deterministic (seeded) so that a failing case
 * can be replayed, and shaped like real Inngest runs (event name, nested data, user, ts).
 *
 * @module
 */
import fc from "fast-check";
import {
  DEFAULT_ENVIRONMENT_ID,
  RUN_STATUSES,
  ZERO_COUNTS,
  compareCursor,
  type CancellationRecord,
  type RunRecord,
  type RunStatus,
  type ScanPage,
  type ScanQuery,
  type RunStore,
} from "../../src/stores/types.js";

import { seededRandom, ulidAt } from "../../src/service/generate.js";

/** A 1,700,000,000,000 ms epoch (Nov 2023): realistic start times without magic numbers in tests. */
export const BASE_TIME = 1_700_000_000_000;

/** Small, fast, seeded PRNG (mulberry32) returning floats in [0, 1): the generator's own. */
export { seededRandom };

/**
 * A ULID-shaped id for time `ms` whose random part comes from `random`: ids of runs sharing a
 * millisecond sort in no relation to their insertion order, as real ULIDs from many workers do.
 */
export function fixtureUlid(ms: number, random: () => number): string {
  return ulidAt(Math.max(0, Math.floor(ms)), random);
}

/** Options of {@link generateRuns}. */
export interface GenerateRunsOptions {
  /** How many runs. */
  readonly count: number;
  /** PRNG seed. Default 1. */
  readonly seed?: number;
  /** Default {@link DEFAULT_ENVIRONMENT_ID}. */
  readonly environmentId?: string;
  /** Default `"app"`. */
  readonly appId?: string;
  /** One function id, or several picked at random. Default `"fn"`. */
  readonly functionId?: string | readonly string[];
  /** Earliest start time. Default {@link BASE_TIME}. */
  readonly startMs?: number;
  /** Start times are spread over `[startMs, startMs + spreadMs)`. Default 1000 (many share a ms). */
  readonly spreadMs?: number;
  /** Statuses picked at random. Default: every status. */
  readonly statuses?: readonly RunStatus[];
}

const PLANS = ["free", "pro", "enterprise"] as const;
const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"] as const;

/** A realistic Inngest event payload (≈300 bytes of JSON). */
export function realisticEvent(random: () => number, index: number): RunRecord["event"] {
  const plan = PLANS[Math.floor(random() * PLANS.length)]!;
  return {
    name: random() < 0.5 ? "app/user.signup" : "app/order.created",
    id: `evt-${index}`,
    ts: BASE_TIME + index,
    data: {
      customerId: `cus_${Math.floor(random() * 100_000)}`,
      plan,
      amount: Math.round(random() * 100_000) / 100,
      items: Math.floor(random() * 10),
      region: REGIONS[Math.floor(random() * REGIONS.length)]!,
      tags: random() < 0.3 ? ["priority", "beta"] : ["standard"],
      address: { city: random() < 0.5 ? "Zürich" : "東京", zip: String(10000 + Math.floor(random() * 89999)) },
      coupon: random() < 0.2 ? "WELCOME10" : null,
    },
    user: { email: `user${index}@example.com`, verified: random() < 0.7 },
  };
}

/** Deterministic runs shaped like production ones. */
export function generateRuns(options: GenerateRunsOptions): RunRecord[] {
  const random = seededRandom(options.seed ?? 1);
  const startMs = options.startMs ?? BASE_TIME;
  const spread = options.spreadMs ?? 1000;
  const statuses = options.statuses ?? RUN_STATUSES;
  const functions = typeof options.functionId === "string" ? [options.functionId] : (options.functionId ?? ["fn"]);
  const runs: RunRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const startedAt = startMs + Math.floor(random() * spread);
    runs.push({
      id: fixtureUlid(startedAt, random),
      environmentId: options.environmentId ?? DEFAULT_ENVIRONMENT_ID,
      appId: options.appId ?? "app",
      functionId: functions[Math.floor(random() * functions.length)]!,
      startedAt,
      status: statuses[Math.floor(random() * statuses.length)]!,
      event: realisticEvent(random, i),
    });
  }
  return runs;
}

/** A minimal valid run; override any field. */
export function makeRun(overrides: Partial<RunRecord> & { readonly id: string }): RunRecord {
  return {
    appId: "app",
    functionId: "fn",
    startedAt: BASE_TIME,
    status: "running",
    event: { name: "test/event", data: {} },
    ...overrides,
  };
}

/** What a store returns for an inserted run: `environmentId` filled in. */
export function expectedStored(run: RunRecord): RunRecord {
  return { ...run, environmentId: run.environmentId ?? DEFAULT_ENVIRONMENT_ID };
}

/** The oracle of a window scan: the runs of the query's function and window, in `(startedAt, id)` order. */
export function windowOracle(runs: readonly RunRecord[], query: Omit<ScanQuery, "limit" | "after">): RunRecord[] {
  const env = query.environmentId ?? DEFAULT_ENVIRONMENT_ID;
  const latest = new Map<string, RunRecord>();
  for (const run of runs) latest.set(run.id, run);
  return [...latest.values()]
    .filter(
      (run) =>
        (run.environmentId ?? DEFAULT_ENVIRONMENT_ID) === env &&
        run.appId === query.appId &&
        run.functionId === query.functionId &&
        run.startedAt <= query.startedBefore &&
        (query.startedAfter === undefined || run.startedAt >= query.startedAfter),
    )
    .sort(compareCursor);
}

/** Every page of a window scan, following `next` until it is absent (fails after `maxPages`). */
export async function scanAllPages(
  store: RunStore,
  query: Omit<ScanQuery, "after">,
  maxPages = 1_000_000,
): Promise<{ runs: RunRecord[]; pages: ScanPage[] }> {
  const runs: RunRecord[] = [];
  const pages: ScanPage[] = [];
  let after: ScanQuery["after"];
  for (let i = 0; i < maxPages; i++) {
    const page = await store.scanRuns(after === undefined ? query : { ...query, after });
    pages.push(page);
    runs.push(...page.runs);
    if (page.next === undefined) return { runs, pages };
    if (after !== undefined && compareCursor(page.next, after) <= 0) {
      throw new Error(`cursor did not advance: ${JSON.stringify(after)} -> ${JSON.stringify(page.next)}`);
    }
    after = page.next;
  }
  throw new Error(`scan did not terminate within ${maxPages} pages`);
}

/** A cancellation record with every required field; override any. */
export function makeCancellation(
  overrides: Partial<CancellationRecord> & { readonly id: string },
): CancellationRecord {
  return {
    environmentId: DEFAULT_ENVIRONMENT_ID,
    appId: "app",
    functionId: "fn",
    startedBefore: BASE_TIME + 1_000_000,
    createdAt: BASE_TIME,
    updatedAt: BASE_TIME,
    status: "running",
    counts: ZERO_COUNTS,
    ...overrides,
  };
}

/** fast-check arbitrary of JSON values as events carry them (finite numbers, unicode strings). */
export const jsonValueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.string({ unit: "grapheme" }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: "grapheme", maxLength: 6 }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Printable-ASCII run ids (what {@link isValidId} accepts), mixing cases to exercise byte order. */
export const runIdArb: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(..."0123456789ABCDEFGHJKMNPQRSTVWXYZabcxyz-_~".split("")),
  minLength: 1,
  maxLength: 12,
});
