/**
 * The `cancelkit` CLI, run as the built binary (`node dist/src/service/cli.js`; dist is built
 * first when missing or stale): exit codes, messages on stderr, progress lines, `check`, the
 * import/export round trip, and `npm start`'s script serving the demo whose printed curl, run
 * through bash, cancels the expected runs.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_USER_ID, GENERATED_FUNCTIONS, generateRuns } from "../../src/service/generate.js";
import { readCancellationBatches, readRunFile } from "../../src/formats/msgpack.js";
import type { RunRecord } from "../../src/stores/types.js";
import { runningChildren } from "../support/child.js";
import { BUILT_CLI as CLI, ISOLATED_ENV, ensureBuiltCli, runBuiltCli, type CliResult } from "../support/cli.js";
import { expectedOutcome } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const START = join(ROOT, "scripts", "start.mjs");
const dir = mkdtempSync(join(tmpdir(), "cancelkit-cli-"));

// Building dist (tsc and the UI bundle) when it is stale takes minutes on a loaded machine: the
// hook's bound is a liveness bound, far above the default.
beforeAll(ensureBuiltCli, 600_000);
afterAll(() => {
  for (const child of runningChildren) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built CLI in the test's directory to its end. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runBuiltCli(args, { cwd: dir, env });
}

const END = "2024-06-01T12:00:00.000Z";
const GENERATED = { count: 8000, seed: 3, end: Date.parse(END), spanMs: 3 * 86_400_000 };
const IF = `event.data.userId == '${EXAMPLE_USER_ID}'`;

async function readAll(path: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for await (const run of readRunFile(path)) out.push(run);
  return out;
}

describe("cancelkit CLI", () => {
  it("exit codes: 0 for help, 2 for usage errors, with the message on stderr", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["serve", "cancel", "resume", "list", "show", "import", "export", "generate", "check"]) expect(help.stdout).toContain(command);
    const cancelHelp = await cli(["cancel", "--help"]);
    for (const flag of ["--app", "--function", "--after", "--before", "--if", "--dry-run", "--batch-size", "--rate", "--max-runs", "--db", "--postgres"]) {
      expect(cancelHelp.stdout).toContain(flag);
    }
    const generateHelp = await cli(["generate", "--help"]);
    for (const fn of GENERATED_FUNCTIONS) expect(generateHelp.stdout).toContain(fn.functionId);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badNumber = await cli(["generate", "--runs", "many", "--out", "x.msgpack"]);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain("--runs");
    const keysMissing = await cli(["serve", "--keys-file", "missing.json", "--db", "k.db"]);
    expect(keysMissing.code).toBe(2);
    expect(keysMissing.stderr).toMatch(/^cancelkit: cannot read keys file missing\.json/);
    writeFileSync(join(dir, "bad-keys.json"), '{ "k": 5 }');
    expect((await cli(["serve", "--keys-file", "bad-keys.json", "--db", "k.db"])).stderr).toBe("cancelkit: bad-keys.json: the environment of each key must be a string\n");
    expect((await cli(["serve", "--port", "99999"])).code).toBe(2);
    const both = await cli(["list", "--db", "a.db", "--postgres", "postgres://localhost/x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("cancelkit: give either --db or --postgres, not both\n");
  });

  it("check prints the result type, or cel-go style errors with a caret (exit 2)", async () => {
    const ok = await cli(["check", IF]);
    expect(ok).toEqual({ code: 0, stdout: "bool\n", stderr: "" });
    const syntax = await cli(["check", "event.data.x +"]);
    expect(syntax.code).toBe(2);
    expect(syntax.stdout).toBe("");
    expect(syntax.stderr).toMatch(/^ERROR: <input>:1:15: Syntax error: mismatched input '<EOF>'/);
    expect(syntax.stderr).toContain("\n | event.data.x +\n | ..............^\n");
    const typed = await cli(["check", "1 + 'a'", "--dialect", "cel"]);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toBe("ERROR: <input>:1:3: found no matching overload for '_+_' applied to '(int, string)'\n | 1 + 'a'\n | ..^\n");
    // Inngest's dialect accepts mixed operands.
    expect((await cli(["check", "1 + 'a'", "--dialect", "inngest"])).stdout).toBe("dyn\n");
    expect((await cli(["check", "[1, 2].map(x, x * 2)", "--dialect", "cel"])).stdout).toBe("list(int)\n");
    expect((await cli(["check", "x", "--dialect", "sql"])).code).toBe(2);
    // An expression whose worst case per run exceeds the cost budget is refused like an invalid one.
    const costly = await cli(["check", "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, event.data.l.exists(x, x == a + b))) == []"]);
    expect(costly.code).toBe(2);
    expect(costly.stderr).toMatch(/^ERROR: <input>:1:\d+: expression too costly: its worst case is an estimated \d+ cost units per evaluation, over the limit of 1000000/);
  });

  it("generate, import and export round-trip MessagePack and JSON Lines", async () => {
    const generated = await cli(["generate", "--runs", String(GENERATED.count), "--out", "runs.msgpack", "--seed", "3", "--end", END, "--days", "3"]);
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^generated 8000 runs into runs\.msgpack/);
    const runs = [...generateRuns(GENERATED)];
    expect(await readAll(join(dir, "runs.msgpack"))).toEqual(runs);

    const imported = await cli(["import", "runs.msgpack", "--db", "a.db"]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^imported 8000 runs from runs\.msgpack/);

    const reminders = runs.filter((run) => run.functionId === "schedule-reminder");
    const exported = await cli(["export", "reminders.jsonl", "--db", "a.db", "--app", "acme-app", "--function", "schedule-reminder"]);
    expect(exported).toEqual({ code: 0, stdout: `exported ${reminders.length} runs to reminders.jsonl\n`, stderr: "" });
    expect(await readAll(join(dir, "reminders.jsonl"))).toEqual(reminders);
    // JSON Lines back in, MessagePack out again, with a window.
    expect((await cli(["import", "reminders.jsonl", "--db", "b.db"])).code).toBe(0);
    const after = "2024-05-30T00:00:00.000Z";
    const windowed = await cli(["export", "window.msgpack", "--db", "b.db", "--app", "acme-app", "--function", "schedule-reminder", "--after", after, "--before", END]);
    expect(windowed.code).toBe(0);
    expect(await readAll(join(dir, "window.msgpack"))).toEqual(reminders.filter((run) => run.startedAt >= Date.parse(after)));

    // Bad input: exit 2 and a clear message.
    writeFileSync(join(dir, "broken.jsonl"), `${readFileSync(join(dir, "reminders.jsonl"), "utf8").split("\n").slice(0, 3).join("\n")}\n{"id": 5}\n`);
    const broken = await cli(["import", "broken.jsonl", "--db", "c.db"]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^cancelkit: broken\.jsonl: record 4.*\(nothing was imported\)\n$/s);
    const missing = await cli(["import", "nope.msgpack", "--db", "c.db"]);
    expect(missing.code).toBe(2);
    expect((await cli(["export", "x.jsonl", "--db", "c.db", "--app", "a"])).code).toBe(2);
  });

  it("cancel: plain progress lines, exact counts, exit 1 at --max-runs, resume, list, show, dry run", async () => {
    // Its own copy of the data (the round-trip test may run first or not).
    expect((await cli(["generate", "--runs", String(GENERATED.count), "--out", "cancel.msgpack", "--seed", "3", "--end", END, "--days", "3"])).code).toBe(0);
    expect((await cli(["import", "cancel.msgpack", "--db", "cancel.db"])).code).toBe(0);
    const runs = [...generateRuns(GENERATED)];
    const window = ["--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--if", IF, "--db", "cancel.db"];
    const expected = expectedOutcome(runs.map((run) => ({ ...run, environmentId: run.environmentId ?? "default" })), {
      environmentId: "default",
      appId: "acme-app",
      functionId: "schedule-reminder",
      before: Date.parse(END),
      userId: EXAMPLE_USER_ID,
    });
    expect(expected.counts.cancelled).toBeGreaterThan(100);

    const dry = await cli(["cancel", ...window, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`dry run: would cancel ${expected.counts.cancelled} runs (nothing was written)`);
    expect((await cli(["list", "--db", "cancel.db"])).stdout).toBe("no cancellations\n");

    const capped = await cli(["cancel", ...window, "--max-runs", "10"]);
    expect(capped.code).toBe(1);
    const id = /cancellation (\w{26}) stopped_max_runs/.exec(capped.stdout)![1]!;
    expect(capped.stderr).toContain(`cancellation ${id} stopped after cancelling 10 runs (--max-runs 10)`);

    // The cap is stored with the job: a resume past it raises it.
    const resumed = await cli(["resume", id, "--db", "cancel.db", "--max-runs", "1000000", "--rate", "60", "--batch-size", "10", "--progress-interval", "100", "--batches-out", "batches.msgpack"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const lines = resumed.stdout.trim().split("\n");
    const progress = lines.filter((line) => line.startsWith("progress: "));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const line of progress) expect(line).toMatch(/^progress: scanned=\d+ matched=\d+ cancelled=\d+ rate=\d+\/s eta=(\d+s|\d+m\d\ds|\?)$/);
    const cancelledSeen = progress.map((line) => Number(/cancelled=(\d+)/.exec(line)![1]));
    expect(cancelledSeen).toEqual([...cancelledSeen].sort((a, b) => a - b));
    expect(lines[lines.length - 2]).toMatch(new RegExp(`^cancellation ${id} completed in [\\d.]+ s$`));
    const c = expected.counts;
    expect(lines[lines.length - 1]).toBe(
      `scanned ${c.scanned}, cancelled ${c.cancelled}, skipped_terminal ${c.skipped_terminal}, not_matched ${c.not_matched}, expression_error 0, non_boolean 0`,
    );

    // --batches-out: every batch the resumed job committed, each run once (10 were cancelled before).
    const batched: string[] = [];
    for await (const batch of readCancellationBatches(join(dir, "batches.msgpack"))) {
      expect(batch.cancellationId).toBe(id);
      batched.push(...batch.runIds);
    }
    expect(batched).toHaveLength(c.cancelled - 10);
    expect(new Set(batched).size).toBe(batched.length);

    const shown = await cli(["show", id, "--db", "cancel.db"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: "completed", counts: c, app_id: "acme-app", if: IF, environment_id: "default" });
    const listed = await cli(["list", "--db", "cancel.db"]);
    expect(listed.stdout.split("\n")[0]).toMatch(/^ID\s+ENVIRONMENT\s+APP\s+FUNCTION\s+STATUS\s+SCANNED\s+CANCELLED\s+CREATED$/);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+default\\s+acme-app\\s+schedule-reminder\\s+completed\\s+${c.scanned}\\s+${c.cancelled}\\s`, "m"));
    const json = await cli(["list", "--db", "cancel.db", "--json"]);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ id, status: "completed" });

    // Validation errors: Inngest's messages in the terms of the flags, exit 2.
    const invalid = await cli(["cancel", "--function", "f", "--before", "2999-01-01T00:00:00Z", "--db", "cancel.db"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe("cancelkit: --app is required\n--before must be in the past\n");
    const notFound = await cli(["show", "01HMRMPE5ZQ4AMNJ3S2N79QGRZ", "--db", "cancel.db"]);
    expect(notFound).toEqual({ code: 2, stdout: "", stderr: "cancelkit: cancellation 01HMRMPE5ZQ4AMNJ3S2N79QGRZ not found\n" });
  });

  it("cancel refuses an if too costly to evaluate, before anything is stored (exit 2)", async () => {
    // A store holding runs and cancellations (the import test's), so "nothing stored" is visible.
    const before = await cli(["list", "--db", "a.db"]);
    expect(before.code).toBe(0);
    const costly = await cli(["cancel", "--app", "acme-app", "--function", "schedule-reminder", "--before", END, "--if", "event.data.s.matches(event.data.s)", "--db", "a.db"]);
    expect(costly.code).toBe(2);
    expect(costly.stderr).toMatch(/^cancelkit: --if: invalid expression: ERROR: <input>:1:\d+: expression too costly/);
    expect(await cli(["list", "--db", "a.db"])).toEqual(before);
  });

  it("serve shuts down gracefully on a SIGTERM sent as soon as it prints its address (exit 0)", async () => {
    // With --demo the banner is followed by the demo's preview (store work): the signal lands
    // while it runs, which used to find no handler yet and kill the process by the default action.
    const child = spawn(process.execPath, [CLI, "serve", "--demo", "--port", "0", "--db", join(dir, "early-signal.db")], {
      cwd: dir,
      env: { ...process.env, ...ISOLATED_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    runningChildren.add(child);
    let stdout = "";
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const first = !stdout.includes(" listening on ");
      stdout += chunk;
      if (first && stdout.includes(" listening on ")) child.kill("SIGTERM");
    });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stdout).toContain("SIGTERM: shutting down");
    runningChildren.delete(child);
  });

  it("npm start's script serves the demo; the printed curl, run by bash, cancels the expected runs; SIGTERM exits 0", async () => {
    const child = spawn(process.execPath, [START, "--port", "0", "--db", join(dir, "demo.db")], {
      cwd: dir,
      env: { ...process.env, ...ISOLATED_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    runningChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.includes("Press Ctrl-C to stop.")) resolve();
      });
      child.on("close", () => reject(new Error(`server exited early:\n${stdout}\n${stderr}`)));
    });
    const key = /^ {2}(signkey-dev-[0-9a-f]{32})$/m.exec(stdout)![1]!;
    const expectedText = /(\d+) will be cancelled, (\d+) have already finished/.exec(stdout)!;
    const post = stdout.slice(stdout.indexOf("curl -X POST"), stdout.indexOf("\nJSON\n") + 5);
    expect(post).toContain(`Authorization: Bearer ${key}`);

    const bash = (script: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const shell = spawn("bash", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        shell.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
        shell.on("error", reject);
        shell.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`bash exited ${code}`))));
      });
    const created = JSON.parse(await bash(`${post.replace("curl ", "curl -s ")}\n`));
    expect(created).toMatchObject({ app_id: "acme-app", function_id: "schedule-reminder", environment_id: "dev", if: IF, status: "running" });

    const getLine = stdout.split("\n").find((line) => line.includes("/v1/cancellations/ID"))!.replace("curl ", "curl -s ").replace("/ID", `/${created.id}`);
    let record: { status: string; counts: { cancelled: number; skipped_terminal: number } };
    const deadline = Date.now() + 10_000;
    do {
      record = JSON.parse(await bash(getLine));
    } while (record.status !== "completed" && Date.now() < deadline);
    expect(record.status).toBe("completed");
    expect(record.counts.cancelled).toBe(Number(expectedText[1]));
    expect(record.counts.skipped_terminal).toBe(Number(expectedText[2]));
    expect(record.counts.cancelled).toBeGreaterThan(0);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toContain("stopped");
    runningChildren.delete(child);
  });
});
