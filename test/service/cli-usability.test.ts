/**
 * The built `cancelkit` binary on a newcomer's path: mistakes fail with exit 2 and a message in
 * the terms of the flags (and create nothing), time flags take dates and relative times, printed
 * follow-up commands carry the store flags and work when pasted, progress output on odd terminals
 * (through `script`, a real pseudo-terminal), dry-run wording, and the development key surviving
 * a restart.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_USER_ID, generateRuns } from "../../src/service/generate.js";
import { runningChildren } from "../support/child.js";
import { BUILT_CLI as CLI, ISOLATED_ENV, ensureBuiltCli, startBuiltCli, type CliResult as Result } from "../support/cli.js";
import { expectedOutcome } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-cli-usability-"));
const BASE_ENV = { ...ISOLATED_ENV, NO_COLOR: "1" };

// Building dist (tsc and the UI bundle) when it is stale takes minutes on a loaded machine: the
// hook's bound is a liveness bound, far above the default.
beforeAll(ensureBuiltCli, 600_000);
afterAll(() => {
  for (const child of runningChildren) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the built CLI in `cwd` (default: the test's directory); `onStdout` sees the output as it comes. */
function start(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; onStdout?: (all: string, child: ChildProcess) => void } = {}): { child: ChildProcess; done: Promise<Result> } {
  return startBuiltCli(args, {
    cwd: options.cwd ?? dir,
    env: { ...BASE_ENV, ...options.env },
    ...(options.onStdout !== undefined ? { onStdout: options.onStdout } : {}),
  });
}

function cli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return start(args, options).done;
}

/** Runs a printed `cancelkit …` command line through bash, `cancelkit` being the built binary. */
function pasted(commandLine: string, cwd = dir): Result {
  const result = spawnSync("bash", ["-c", `cancelkit() { "${process.execPath}" "${CLI}" "$@"; }\n${commandLine}`], {
    cwd,
    env: { ...process.env, ...BASE_ENV },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `command` in a pseudo-terminal (`script`), of `columns` columns; returns everything it printed. */
function inTerminal(command: string, columns: number): Result {
  const inner = `stty cols ${columns} rows 24 2>/dev/null; ${command}`;
  const result = spawnSync("script", ["-qec", inner, "/dev/null"], { cwd: dir, env: { ...process.env, ...BASE_ENV, TERM: "xterm" }, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const END = "2024-06-01T12:00:00.000Z";
const GENERATED = { count: 6000, seed: 5, end: Date.parse(END), spanMs: 3 * 86_400_000 };
const IF = `event.data.userId == '${EXAMPLE_USER_ID}'`;
const DB = "usability.db";
const WINDOW = ["--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--db", DB];

describe("cancelkit CLI on a newcomer's path", () => {
  beforeAll(async () => {
    expect((await cli(["generate", "--runs", String(GENERATED.count), "--out", "usability.msgpack", "--seed", "5", "--end", END, "--days", "3"])).code).toBe(0);
    const imported = await cli(["import", "usability.msgpack", "--db", DB]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
  }, 120_000);

  it("commands that read a store refuse a path that does not exist, and create nothing", async () => {
    const cwd = mkdtempSync(join(dir, "empty-"));
    const attempts: [string, string[]][] = [
      ["./nope/ck.db", ["cancel", "--db", "./nope/ck.db", "--app", "a", "--function", "f", "--before", "now"]],
      ["./missing.db", ["list", "--db", "./missing.db"]],
      ["./missing.db", ["show", "01HMRMPE5ZQ4AMNJ3S2N79QGRZ", "--db", "./missing.db"]],
      ["./missing.db", ["resume", "01HMRMPE5ZQ4AMNJ3S2N79QGRZ", "--db", "./missing.db"]],
      ["./missing.db", ["export", "out.msgpack", "--app", "a", "--function", "f", "--db", "./missing.db"]],
      ["./.cancelkit/cancelkit.db", ["list"]],
    ];
    for (const [path, args] of attempts) {
      const result = await cli(args, { cwd });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(`cancelkit: no SQLite database at ${path}`);
      expect(result.stderr).toContain("only serve and import create one");
      expect(result.stdout).toBe("");
    }
    for (const path of ["nope", "missing.db", ".cancelkit", "out.msgpack"]) expect(existsSync(join(cwd, path)), path).toBe(false);
    // import is one of the commands that create a store.
    const imported = await cli(["import", join(dir, "usability.msgpack"), "--db", "./made/ck.db"], { cwd });
    expect(imported.code).toBe(0);
    expect(existsSync(join(cwd, "made", "ck.db"))).toBe(true);
  });

  it("messages name the flags: missing --app, a bad --before, --after after --before, a malformed URL, a bad id", async () => {
    const missing = await cli(["cancel", "--function", "f", "--before", "now", "--db", DB]);
    expect(missing).toMatchObject({ code: 2, stderr: "cancelkit: --app is required\n" });
    const nothing = await cli(["cancel", "--db", DB]);
    expect(nothing).toMatchObject({ code: 2, stderr: "cancelkit: --app is required\n--function is required\n--before is required\n" });
    const badBefore = await cli(["cancel", "--app", "a", "--function", "f", "--before", "yesterday", "--db", DB]);
    expect(badBefore.code).toBe(2);
    expect(badBefore.stderr).toMatch(/^cancelkit: --before: cannot read "yesterday" as a time \(expected RFC 3339 .*-48h, 7d/);
    expect(badBefore.stderr).not.toContain("started_before");
    const badMonth = await cli(["cancel", "--app", "a", "--function", "f", "--before", "2024-13-01T00:00:00Z", "--db", DB]);
    expect(badMonth).toMatchObject({ code: 2, stderr: 'cancelkit: --before: cannot read "2024-13-01T00:00:00Z" as a time (month out of range)\n' });
    const order = await cli(["cancel", "--app", "a", "--function", "f", "--after", "now", "--before", "-1d", "--db", DB]);
    expect(order).toMatchObject({ code: 2, stderr: "cancelkit: --after must be before --before\n" });
    const future = await cli(["cancel", "--app", "a", "--function", "f", "--before", "+1h", "--db", DB]);
    expect(future).toMatchObject({ code: 2, stderr: "cancelkit: --before must be in the past\n" });
    const badIf = await cli(["cancel", ...WINDOW, "--if", "event.data.x =="]);
    expect(badIf.code).toBe(2);
    expect(badIf.stderr).toMatch(/^cancelkit: --if: invalid expression: ERROR: <input>:1:/);

    for (const [args, env, setting] of [
      [["list", "--postgres", "notaurl"], {}, "--postgres"],
      [["list"], { DATABASE_URL: "notaurl" }, "DATABASE_URL"],
      [["cancel", "--app", "a", "--function", "f", "--before", "now", "--postgres", "mysql://u:secret@h/db"], {}, "--postgres"],
    ] as const) {
      const result = await cli(args, { env });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toBe(`cancelkit: ${setting} is not a PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)\n`);
      expect(result.stderr).not.toContain("secret");
    }
    const badSwitch = await cli(["list"], { env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", CANCELKIT_POSTGRES_PREPARED_STATEMENTS: "yes" } });
    expect(badSwitch).toMatchObject({ code: 2, stderr: 'cancelkit: CANCELKIT_POSTGRES_PREPARED_STATEMENTS must be "true" or "false", got "yes"\n' });

    // As the API: `Invalid cancellation ID` for what is not an id; not found for an unknown id.
    for (const command of ["show", "resume"]) {
      const invalid = await cli([command, "abc", "--db", DB]);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toMatch(/^cancelkit: Invalid cancellation ID: "abc"/);
    }
    const badCursor = await cli(["list", "--cursor", "zz", "--db", DB]);
    expect(badCursor.code).toBe(2);
    expect(badCursor.stderr).toMatch(/^cancelkit: Invalid cursor: "zz"/);
    const unknown = await cli(["show", "01hmrmpe5zq4amnj3s2n79qgrz", "--db", DB]);
    expect(unknown).toMatchObject({ code: 2, stderr: "cancelkit: cancellation 01HMRMPE5ZQ4AMNJ3S2N79QGRZ not found\n" });
  });

  it("a window with no run of the function in the environment says so and names where the runs are", async () => {
    expect((await cli(["generate", "--runs", "500", "--out", "dev.msgpack", "--seed", "4", "--end", END, "--env", "dev"])).code).toBe(0);
    expect((await cli(["import", "dev.msgpack", "--db", "dev-only.db"])).code).toBe(0);
    const window = ["--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--db", "dev-only.db", "--dry-run"];
    const forgotten = await cli(["cancel", ...window]);
    expect(forgotten.code).toBe(0);
    expect(forgotten.stderr).toBe(
      'cancelkit: warning: no run of function "schedule-reminder" of app "acme-app" in environment "default" started in this window; ' +
        'environment "dev" has runs of it in the window (add --env dev)\n',
    );
    expect(forgotten.stdout).toContain("scanned 0,");
    const right = await cli(["cancel", ...window, "--env", "dev"]);
    expect(right.stderr).toBe("");
    const misspelt = await cli(["cancel", ...window.map((arg) => (arg === "schedule-reminder" ? "schedule-remindr" : arg)), "--env", "dev"]);
    expect(misspelt.stderr).toMatch(/^cancelkit: warning: no run of function "schedule-remindr" .*; functions with runs in the window in this environment: acme-app\/schedule-reminder, /);
    const never = await cli(["cancel", ...window, "--env", "dev", "--if", "event.data.userId + 1"]);
    expect(never.stderr).toMatch(/^cancelkit: warning: the --if expression's type is \w+, not bool: it matches no run/);
  });

  it("check says when the type cannot be a filter's bool (exit 2); dyn and bool pass", async () => {
    for (const [expression, type] of [
      ["event.data.amount", "dyn"],
      ["event.data.plan == 'pro'", "bool"],
    ] as const) {
      expect(await cli(["check", expression])).toEqual({ code: 0, stdout: `${type}\n`, stderr: "" });
    }
    for (const [expression, type, dialect] of [
      ["1 + 2", "int", "cel"],
      ["'a' + 'b'", "string", "inngest"],
      ["[1, 2]", "list(int)", "cel"],
    ] as const) {
      const result = await cli(["check", expression, "--dialect", dialect]);
      expect(result.code, expression).toBe(2);
      expect(result.stdout).toBe(`${type}\n`);
      expect(result.stderr).toContain(`the type is ${type}, not bool`);
      expect(result.stderr).toContain("matches no run");
    }
  });

  it("time flags take RFC 3339, plain dates and relative times, with the same counts as the equivalent timestamps", async () => {
    const base = ["--app", "acme-app", "--function", "schedule-reminder", "--if", IF, "--db", DB, "--dry-run", "--json"];
    const counts = async (after: string, before: string): Promise<unknown> => {
      const result = await cli(["cancel", ...base, "--after", after, "--before", before]);
      expect(result.stderr, `${after} ${before}`).toBe("");
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as { counts: unknown }).counts;
    };
    const byDate = await counts("2024-05-30", "2024-06-01");
    expect(byDate).toEqual(await counts("2024-05-30T00:00:00Z", "2024-06-01T00:00:00.000Z"));
    expect((byDate as { scanned: number }).scanned).toBeGreaterThan(100);
    // Relative to now: every generated run lies in the window `-1000d` … `now`.
    const runs = [...generateRuns(GENERATED)];
    const all = expectedOutcome(runs.map((run) => ({ ...run, environmentId: run.environmentId ?? "default" })), {
      environmentId: "default",
      appId: "acme-app",
      functionId: "schedule-reminder",
      before: Date.now(),
      userId: EXAMPLE_USER_ID,
    });
    expect(await counts("-1000d", "now")).toEqual(all.counts);
    expect(await counts("143w", "0s")).toEqual(all.counts);
  });

  it("dry runs say would cancel; no progress line is printed twice", async () => {
    const dry = await cli(["cancel", ...WINDOW, "--if", IF, "--dry-run"]);
    expect(dry.code).toBe(0);
    const summary = dry.stdout.split("\n").find((line) => line.startsWith("scanned "))!;
    expect(summary).toMatch(/^scanned \d+, would cancel [1-9]\d*, skipped_terminal/);
    const dryProgress = dry.stdout.split("\n").filter((line) => line.startsWith("progress: "));
    expect(dryProgress.length).toBeGreaterThan(0);
    for (const line of dryProgress) expect(line).toMatch(/ would_cancel=\d+ /);

    const db = join(mkdtempSync(join(dir, "twice-")), "twice.db");
    expect((await cli(["import", "usability.msgpack", "--db", db])).code).toBe(0);
    for (const [fn, interval] of [["schedule-reminder", "0"], ["send-digest", "1000"]] as const) {
      const job = await cli(["cancel", "--app", "acme-app", "--function", fn, "--before", END, "--db", db, "--batch-size", "25", "--progress-interval", interval]);
      expect(job.code).toBe(0);
      const progress = job.stdout.split("\n").filter((line) => line.startsWith("progress: ")).map((line) => line.replace(/ rate=.*/, ""));
      if (interval === "0") expect(progress.length).toBeGreaterThan(2);
      expect(progress.length).toBeGreaterThan(0);
      expect(new Set(progress).size, progress.join("\n")).toBe(progress.length);
    }
  });

  it("on a terminal of 0 columns progress comes as plain lines; at 60 columns the bar shrinks and the rate and ETA stay", async () => {
    const db = join(mkdtempSync(join(dir, "tty-")), "tty.db");
    expect((await cli(["import", "usability.msgpack", "--db", db])).code).toBe(0);
    const command = (fn: string): string =>
      `"${process.execPath}" "${CLI}" cancel --app acme-app --function ${fn} --before ${END} --db "${db}" --batch-size 25 --progress-interval 0`;
    const zero = inTerminal(command("schedule-reminder"), 0);
    expect(zero.code).toBe(0);
    const zeroLines = zero.stdout.split(/\r?\n/).filter((line) => line.includes("progress: "));
    expect(zeroLines.length).toBeGreaterThan(2);
    // Not one bare clear-line sequence.
    expect(zero.stdout).not.toMatch(/\r\x1b\[K/);

    const narrow = inTerminal(command("send-digest"), 60);
    expect(narrow.code).toBe(0);
    const drawn = narrow.stdout.split("\r").filter((part) => part.includes("\x1b[K")).map((part) => part.slice(0, part.indexOf("\x1b[K")));
    expect(drawn.length).toBeGreaterThan(2);
    for (const line of drawn) {
      expect(line.length).toBeLessThanOrEqual(59);
      expect(line).toMatch(/runs\/s {2}ETA (\d+s|\d+m\d\ds|\?)$/);
      expect(line).toMatch(/^[█░]{6,24} +(\d+|\?)% {2}(scanned [\d,]+ {2})?cancelled [\d,]+ {2}/);
    }
  });

  it("follow-up commands carry the store flags: the Ctrl-C hint, the --max-runs hint and list's paging hint work when pasted", async () => {
    const dbDir = mkdtempSync(join(dir, "hints-"));
    const db = join(dbDir, "hint store.db");
    expect((await cli(["import", "usability.msgpack", "--db", db])).code).toBe(0);
    const window = ["--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--if", IF, "--db", db];
    const expected = expectedOutcome([...generateRuns(GENERATED)].map((run) => ({ ...run, environmentId: run.environmentId ?? "default" })), {
      environmentId: "default",
      appId: "acme-app",
      functionId: "schedule-reminder",
      before: Date.parse(END),
      userId: EXAMPLE_USER_ID,
    });

    // Ctrl-C: SIGINT once progress shows; the job stops at a batch with its checkpoint.
    let interrupted = false;
    const job = start(["cancel", ...window, "--rate", "40", "--batch-size", "10", "--progress-interval", "0"], {
      cwd: mkdtempSync(join(dir, "elsewhere-")),
      onStdout: (all, child) => {
        if (!interrupted && /cancelled=[1-9]/.test(all)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    });
    const stopped = await job.done;
    expect(stopped.code).toBe(1);
    const hint = /continue with: (.*)$/m.exec(stopped.stderr)![1]!;
    expect(hint).toMatch(/^cancelkit resume \w{26} --db '.*hint store\.db'$/);
    // Pasted in another folder: the store is found through the flags, nothing is created there.
    const otherCwd = mkdtempSync(join(dir, "paste-"));
    const resumed = pasted(hint, otherCwd);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`cancelled ${expected.counts.cancelled}, skipped_terminal ${expected.counts.skipped_terminal}`);
    expect(existsSync(join(otherCwd, ".cancelkit"))).toBe(false);

    // --max-runs: the hint names the store too.
    await cli(["import", "usability.msgpack", "--db", join(dbDir, "second.db")]);
    const capped = await cli(["cancel", ...window.slice(0, -1), join(dbDir, "second.db"), "--max-runs", "5"]);
    expect(capped.code).toBe(1);
    const cappedHint = /continue with: (.*)$/m.exec(capped.stderr)![1]!;
    expect(cappedHint).toMatch(/^cancelkit resume \w{26} --max-runs <higher> --db .*second\.db$/);
    const raised = pasted(cappedHint.replace("<higher>", "1000000"), otherCwd);
    expect(raised.code).toBe(0);
    expect(raised.stdout).toContain(`cancelled ${expected.counts.cancelled},`);

    // list: the paging hint keeps --db, --env and --limit.
    const firstId = /^cancelkit resume (\w{26})/.exec(hint)![1]!;
    expect((await cli(["cancel", "--app", "acme-app", "--function", "send-digest", "--before", END, "--db", db])).code).toBe(0);
    const first = await cli(["list", "--db", db, "--limit", "1", "--env", "default"]);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain(firstId);
    const more = /^more: (.*)$/m.exec(first.stdout)![1]!;
    expect(more).toMatch(/^cancelkit list --env default --limit 1 --cursor \w{26} --db '.*hint store\.db'$/);
    const page = pasted(more, otherCwd);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain(firstId);
  });

  it("a job's rate, batch size and max runs are stored with it and reused on resume unless overridden", async () => {
    const db = join(mkdtempSync(join(dir, "settings-")), "settings.db");
    expect((await cli(["import", "usability.msgpack", "--db", db])).code).toBe(0);
    const window = ["--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--db", db];
    const first = await cli(["cancel", ...window, "--rate", "50", "--batch-size", "5", "--max-runs", "20"]);
    expect(first.code).toBe(1);
    const id = /cancellation (\w{26}) stopped_max_runs/.exec(first.stdout)![1]!;
    const show = async (): Promise<Record<string, unknown>> => JSON.parse((await cli(["show", id, "--db", db])).stdout) as Record<string, unknown>;
    expect(await show()).toMatchObject({ rate_per_second: 50, batch_size: 5, max_runs: 20, counts: { cancelled: 20 } });

    // Resumed as hinted but without --max-runs: the stored cap still holds.
    const again = await cli(["resume", id, "--db", db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("stopped after cancelling 20 runs (--max-runs 20)");

    // A higher cap: the stored rate and batch size apply (batches of at most 5, no faster than 50 a second).
    const started = performance.now();
    const more = await cli(["resume", id, "--db", db, "--max-runs", "60", "--batches-out", "settings-batches.msgpack"]);
    const elapsed = performance.now() - started;
    expect(more.code).toBe(1);
    expect(more.stderr).toContain("stopped after cancelling 60 runs (--max-runs 60)");
    const { readCancellationBatches } = await import("../../src/formats/msgpack.js");
    const sizes: number[] = [];
    for await (const batch of readCancellationBatches(join(dir, "settings-batches.msgpack"))) sizes.push(batch.runIds.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    // 40 runs at 50 a second, the first batch at once: at least 0.7 s (a lower bound cannot flake).
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(await show()).toMatchObject({ rate_per_second: 50, batch_size: 5, max_runs: 60 });

    // Overrides are stored: a later plain resume keeps them.
    const fast = await cli(["resume", id, "--db", db, "--max-runs", "1000000", "--rate", "100000", "--batch-size", "1000"]);
    expect(fast.code).toBe(0);
    expect(await show()).toMatchObject({ status: "completed", rate_per_second: 100000, batch_size: 1000, max_runs: 1000000 });
  });

  it("import is all or nothing: a truncated file names its failing record and leaves the store as it was", async () => {
    for (const ext of ["msgpack", "jsonl"]) {
      const whole = `atomic.${ext}`;
      expect((await cli(["generate", "--runs", "2000", "--out", whole, "--seed", "9", "--end", END])).code).toBe(0);
      const bytes = readFileSync(join(dir, whole));
      // Cut inside a record past the first batch of 1000.
      const cut = `atomic-cut.${ext}`;
      writeFileSync(join(dir, cut), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      const db = `atomic-${ext}.db`;
      expect((await cli(["import", "usability.msgpack", "--db", db])).code).toBe(0);
      const before = await cli(["export", `before-${ext}.jsonl`, "--app", "acme-app", "--function", "schedule-reminder", "--db", db]);
      const failed = await cli(["import", cut, "--db", db]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(new RegExp(`^cancelkit: ${cut.replace(".", "\\.")}: record (\\d+)(: line \\d+)?: .*\\(nothing was imported\\)\\n$`, "s"));
      const record = Number(/record (\d+)/.exec(failed.stderr)![1]);
      expect(record).toBeGreaterThan(1000);
      const after = await cli(["export", `after-${ext}.jsonl`, "--app", "acme-app", "--function", "schedule-reminder", "--db", db]);
      expect(after.stdout).toBe(before.stdout.replace(`before-${ext}`, `after-${ext}`));
      expect(readFileSync(join(dir, `after-${ext}.jsonl`), "utf8")).toBe(readFileSync(join(dir, `before-${ext}.jsonl`), "utf8"));
      // The whole file goes in.
      expect((await cli(["import", whole, "--db", db])).stdout).toMatch(/^imported 2000 runs/);
    }
  });

  it("resume --env refuses a cancellation of another environment", async () => {
    const capped = await cli(["cancel", ...WINDOW, "--if", IF, "--max-runs", "1"]);
    expect(capped.code).toBe(1);
    const id = /cancellation (\w{26}) stopped_max_runs/.exec(capped.stdout)![1]!;
    const wrong = await cli(["resume", id, "--db", DB, "--env", "dev"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`cancelkit: cancellation ${id} is not in environment "dev" (leave out --env to resume it in its own)\n`);
    const right = await cli(["resume", id, "--db", DB, "--env", "default", "--max-runs", "2"]);
    expect(right.stderr).toContain("stopped after cancelling 2 runs");
  });

  it("serve keeps its development key in ./.cancelkit/: the same key after a restart, and it still authenticates", async () => {
    const cwd = mkdtempSync(join(dir, "serve-"));
    const serveOnce = async (): Promise<{ key: string; stdout: string; status: number }> => {
      let resolveReady: (value: { url: string; key: string }) => void = () => undefined;
      const ready = new Promise<{ url: string; key: string }>((resolve) => (resolveReady = resolve));
      const server = start(["serve", "--port", "0"], {
        cwd,
        onStdout: (all) => {
          const url = /listening on (http:\/\/\S+)/.exec(all)?.[1];
          const key = /^ {2}(signkey-dev-[0-9a-f]{32})$/m.exec(all)?.[1];
          if (url !== undefined && key !== undefined && all.includes("Press Ctrl-C")) resolveReady({ url, key });
        },
      });
      const { url, key } = await Promise.race([ready, server.done.then((r) => Promise.reject(new Error(`serve exited: ${r.stderr}`)))]);
      const response = await fetch(`${url}/v1/cancellations`, { headers: { authorization: `Bearer ${key}` } });
      server.child.kill("SIGTERM");
      const result = await server.done;
      expect(result.code).toBe(0);
      return { key, stdout: result.stdout, status: response.status };
    };
    const first = await serveOnce();
    expect(first.status).toBe(200);
    expect(first.stdout).toContain("generated a development key");
    const file = join(cwd, ".cancelkit", "dev-signing-key");
    expect(readFileSync(file, "utf8").trim()).toBe(first.key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = await serveOnce();
    expect(second.key).toBe(first.key);
    expect(second.status).toBe(200);
    expect(second.stdout).toContain("the development key");

    writeFileSync(file, "not a key\n");
    const broken = await cli(["serve", "--port", "0"], { cwd });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("dev-signing-key: not a development key");
  });
});
