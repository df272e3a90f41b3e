import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encoder, decodeMulti, encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryRunStore } from "../../src/stores/memory.js";
import {
  CancellationBatchWriter,
  RunFileError,
  exportRuns,
  importRuns,
  messagePackObjectLength,
  readCancellationBatches,
  readRunFile,
  type CancellationBatch,
} from "../../src/formats/msgpack.js";
import { SqliteRunStore } from "../../src/stores/sqlite.js";
import { StoreError, type RunRecord, type RunStore } from "../../src/stores/types.js";
import { BASE_TIME, expectedStored, generateRuns, makeRun, windowOracle } from "../stores/fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cancelkit-msgpack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const file = (ext: string) => join(dir, `f${counter++}.${ext}`);

const richRuns: RunRecord[] = [
  makeRun({
    id: "01HRICH0000000000000000001",
    environmentId: "prod",
    startedAt: BASE_TIME + 1,
    status: "cancelled",
    cancellationId: "01HCANCEL",
    event: {
      name: "app/ünïcode 😁",
      id: "evt-1",
      ts: 1_700_000_000_001.5,
      user: { email: "a@b.c" },
      data: { n: 1, f: 0.1, neg: -2, big: 2 ** 60, s: "東京\u0000", nul: null, list: [1, [2, [3]], { x: true }], empty: {} },
    },
  }),
  makeRun({ id: "01HRICH0000000000000000002", environmentId: "prod", startedAt: BASE_TIME + 1 }),
  makeRun({ id: "01HRICH0000000000000000003", environmentId: "prod", startedAt: BASE_TIME + 2, status: "queued" }),
];

async function readAll(path: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for await (const run of readRunFile(path)) out.push(run);
  return out;
}

async function catchError(promise: Promise<unknown>): Promise<RunFileError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RunFileError);
  expect((caught as RunFileError).code).toBe("invalid_file");
  return caught as RunFileError;
}

/** A store that only counts what it is given, to watch batch sizes. */
class CountingStore extends MemoryRunStore {
  batches: number[] = [];
  override async insertRunStream(batches: AsyncIterable<readonly RunRecord[]>): Promise<number> {
    const self = this;
    return super.insertRunStream(
      (async function* () {
        for await (const batch of batches) {
          self.batches.push(batch.length);
          yield batch;
        }
      })(),
    );
  }
}

/** Writes a MessagePack run file by hand: header plus the given records. */
function writeRunFile(path: string, records: readonly unknown[], header: unknown = { format: "cancelkit.runs", version: 1 }): Buffer {
  const bytes = Buffer.concat([encode(header), ...records.map((r) => encode(r))]);
  writeFileSync(path, bytes);
  return bytes;
}

const short = (run: RunRecord) => ({ i: run.id, e: run.environmentId ?? "default", a: run.appId, f: run.functionId, t: run.startedAt, s: run.status, v: run.event });

describe("MessagePack run files", () => {
  it("round-trips runs through export and import, in window order", async () => {
    const source = new MemoryRunStore();
    await source.insertRuns(richRuns);
    const path = file("msgpack");
    expect(await exportRuns(source, { environmentId: "prod", appId: "app", functionId: "fn" }, path)).toEqual({ exported: 3 });
    const target = new MemoryRunStore();
    expect(await importRuns(target, path)).toEqual({ imported: 3 });
    for (const run of richRuns) expect(await target.getRun(run.id)).toEqual(expectedStored(run));
    expect((await readAll(path)).map((r) => r.id)).toEqual(richRuns.map((r) => r.id));
  });

  it("writes exactly the documented layout", async () => {
    const source = new MemoryRunStore();
    await source.insertRuns(richRuns);
    const path = file("mpk");
    await exportRuns(source, { environmentId: "prod", appId: "app", functionId: "fn" }, path);
    const objects = [...decodeMulti(readFileSync(path))];
    expect(objects[0]).toEqual({ format: "cancelkit.runs", version: 1 });
    expect(objects[1]).toEqual({ ...short(richRuns[0]!), c: "01HCANCEL" });
    expect(Object.keys(objects[2] as object).sort()).toEqual(["a", "e", "f", "i", "s", "t", "v"]);
    expect(objects.length).toBe(4);
  });

  it("exports a window only, and an empty window as a header-only file", async () => {
    const runs = generateRuns({ count: 500, seed: 3, spreadMs: 100 });
    const source = new MemoryRunStore();
    await source.insertRuns(runs);
    const path = file("msgpack");
    const window = { appId: "app", functionId: "fn", startedAfter: BASE_TIME + 20, startedBefore: BASE_TIME + 60 };
    const { exported } = await exportRuns(source, { ...window, pageSize: 7 }, path);
    const expected = windowOracle(runs, window);
    expect(exported).toBe(expected.length);
    expect((await readAll(path)).map((r) => r.id)).toEqual(expected.map((r) => r.id));
    const empty = file("msgpack");
    expect(await exportRuns(source, { appId: "nope", functionId: "fn" }, empty)).toEqual({ exported: 0 });
    expect([...decodeMulti(readFileSync(empty))]).toEqual([{ format: "cancelkit.runs", version: 1 }]);
    expect(await importRuns(new MemoryRunStore(), empty)).toEqual({ imported: 0 });
  });

  it("imports in batches of batchSize and works with SQLite on both ends", async () => {
    const runs = generateRuns({ count: 2500, seed: 5 });
    const sqlite = new SqliteRunStore({ path: ":memory:" });
    await sqlite.insertRuns(runs);
    const path = file("msgpack");
    await exportRuns(sqlite, { appId: "app", functionId: "fn", pageSize: 333 }, path);
    const counting = new CountingStore();
    expect(await importRuns(counting, path, { batchSize: 1000 })).toEqual({ imported: 2500 });
    expect(counting.batches).toEqual([1000, 1000, 500]);
    const back = new SqliteRunStore({ path: ":memory:" });
    await importRuns(back, path, { batchSize: 64 });
    for (const run of runs.slice(0, 50)) expect(await back.getRun(run.id)).toEqual(expectedStored(run));
    await sqlite.close();
    await back.close();
  });

  it("decodes records larger than a read chunk and enforces maxRecordBytes", async () => {
    const big = makeRun({ id: "BIG", event: { name: "e", data: { blob: "x".repeat(300_000), list: Array.from({ length: 20_000 }, (_, i) => i) } } });
    const path = file("msgpack");
    writeRunFile(path, [short(makeRun({ id: "SMALL" })), short(big), short(makeRun({ id: "AFTER" }))]);
    const runs = await readAll(path);
    expect(runs.map((r) => r.id)).toEqual(["SMALL", "BIG", "AFTER"]);
    expect(runs[1]!.event).toEqual(big.event);
    const error = await catchError(
      (async () => {
        for await (const run of readRunFile(path, { maxRecordBytes: 100_000 })) void run;
      })(),
    );
    expect(error.recordNumber).toBe(2);
    expect(error.message).toMatch(/record 2: larger than the 100000-byte limit/);
  });

  it("reports truncation at any cut point with the record number, and imports nothing of a truncated file (property)", async () => {
    const runs = generateRuns({ count: 6, seed: 8, spreadMs: 3 });
    const path = file("msgpack");
    const bytes = writeRunFile(path, runs.map(short));
    const boundaries = [encode({ format: "cancelkit.runs", version: 1 }).length];
    for (const run of runs) boundaries.push(boundaries.at(-1)! + encode(short(run)).length);
    expect(boundaries.at(-1)).toBe(bytes.length);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (cut) => {
        const cutPath = file("msgpack");
        writeFileSync(cutPath, bytes.subarray(0, cut));
        const store = new MemoryRunStore();
        const complete = boundaries.filter((b) => b <= cut).length - 1; // whole run records before the cut
        if (boundaries.includes(cut) && cut > 0) {
          // A cut exactly between records is a valid, shorter file.
          expect(await importRuns(store, cutPath, { batchSize: 4 })).toEqual({ imported: complete });
        } else {
          const error = await catchError(importRuns(store, cutPath, { batchSize: 4 }));
          if (cut === 0) {
            expect(error.message).toMatch(/header: empty file/);
          } else if (complete < 0) {
            expect(error.recordNumber).toBe(0);
            expect(error.message).toMatch(/header: truncated/);
          } else {
            expect(error.recordNumber).toBe(complete + 1);
            expect(error.message).toMatch(new RegExp(`record ${complete + 1}: truncated: the file ends \\d+ byte\\(s\\) into this record`));
            expect(error.imported).toBe(0);
          }
        }
        const imported = (await store.scanRuns({ appId: "app", functionId: "fn", startedBefore: BASE_TIME + 10, limit: 100 })).runs.map((r) => r.id);
        // A valid shorter file is imported whole; a truncated one not at all.
        expect(imported.sort()).toEqual(boundaries.includes(cut) && cut > 0 ? runs.slice(0, complete).map((r) => r.id).sort() : []);
        rmSync(cutPath);
      }),
      { numRuns: 80 },
    );
  });

  it("rejects corrupt bytes, invalid records, unknown keys and foreign files with the record number", async () => {
    const good = short(makeRun({ id: "G1" }));
    const corrupt = file("msgpack");
    const bytes = writeRunFile(corrupt, [good, good, good]);
    const third = bytes.length - encode(good).length;
    bytes[third] = 0xc1;
    writeFileSync(corrupt, bytes);
    const store = new MemoryRunStore();
    let error = await catchError(importRuns(store, corrupt));
    expect(error.message).toMatch(/record 3: corrupt MessagePack: byte 0xc1/);
    expect(error.imported).toBe(0);
    expect(await store.getRun("G1")).toBeUndefined();

    const invalid = file("msgpack");
    writeRunFile(invalid, [good, { ...good, i: "G2", s: "paused" }]);
    error = await catchError(importRuns(new MemoryRunStore(), invalid));
    expect(error.message).toMatch(/record 2: run \(id "G2"\): status must be one of/);
    expect(error.cause).toBeInstanceOf(StoreError);

    const unknown = file("msgpack");
    writeRunFile(unknown, [{ ...good, x: 1 }]);
    expect((await catchError(importRuns(new MemoryRunStore(), unknown))).message).toMatch(/record 1: unknown key "x"/);

    const notMap = file("msgpack");
    writeRunFile(notMap, [[1, 2]]);
    expect((await catchError(importRuns(new MemoryRunStore(), notMap))).message).toMatch(/record 1: a run record must be a map/);

    const binary = file("msgpack");
    writeRunFile(binary, [{ ...good, v: { name: "e", data: { b: new Uint8Array([1]) } } }]);
    const binaryError = await catchError(importRuns(new MemoryRunStore(), binary));
    expect(binaryError.message).toMatch(/record 1: .*event\.data\.b: a (Buffer|Uint8Array) is not a JSON value/);

    const timestamp = file("msgpack");
    writeRunFile(timestamp, [{ ...good, v: { name: "e", data: { d: new Date(0) } } }]);
    expect((await catchError(importRuns(new MemoryRunStore(), timestamp))).message).toMatch(/a Date is not a JSON value/);

    const proto = file("msgpack");
    writeFileSync(proto, Buffer.concat([encode({ format: "cancelkit.runs", version: 1 }), new Encoder().encode({ ...good, v: { name: "e", data: JSON.parse('{"__proto__": 1}') } })]));
    expect((await catchError(importRuns(new MemoryRunStore(), proto))).message).toMatch(/record 1: a map key "__proto__" cannot be decoded/);

    const batches = file("msgpack");
    writeRunFile(batches, [], { format: "cancelkit.cancellation-batches", version: 1 });
    expect((await catchError(importRuns(new MemoryRunStore(), batches))).message).toMatch(/header: this is a "cancelkit.cancellation-batches" file, not cancelkit.runs/);

    const newer = file("msgpack");
    writeRunFile(newer, [good], { format: "cancelkit.runs", version: 2 });
    expect((await catchError(importRuns(new MemoryRunStore(), newer))).message).toMatch(/header: version 2 is newer/);

    const noHeader = file("msgpack");
    writeFileSync(noHeader, encode(good));
    expect((await catchError(importRuns(new MemoryRunStore(), noHeader))).message).toMatch(/header: not a cancelkit.runs file/);

    const missing = join(dir, "does-not-exist.msgpack");
    expect((await catchError(importRuns(new MemoryRunStore(), missing))).message).toMatch(/cannot read the file/);
  });

  it("rejects bad options and unwritable paths with typed errors", async () => {
    const store = new MemoryRunStore();
    await expect(importRuns(store, file("msgpack"), { batchSize: 0 })).rejects.toMatchObject({ code: "invalid_option" });
    await expect(exportRuns(store, { appId: "app", functionId: "fn", pageSize: -1 }, file("msgpack"))).rejects.toMatchObject({ code: "invalid_option" });
    const nowhere = join(dir, "missing-dir", "runs.msgpack");
    await expect(exportRuns(store, { appId: "app", functionId: "fn" }, nowhere)).rejects.toMatchObject({
      code: "storage",
      message: expect.stringMatching(/cannot write .*missing-dir\/runs\.msgpack/) as unknown,
    });
    await expect(CancellationBatchWriter.open(nowhere)).rejects.toMatchObject({ code: "storage" });
  });

  it("accepts extra header keys for forward compatibility", async () => {
    const path = file("msgpack");
    writeRunFile(path, [short(makeRun({ id: "H1" }))], { format: "cancelkit.runs", version: 1, producer: "other-tool" });
    expect((await readAll(path)).map((r) => r.id)).toEqual(["H1"]);
  });

  it("writes the export atomically: a failing store leaves no file behind", async () => {
    const source = new MemoryRunStore();
    await source.insertRuns(generateRuns({ count: 50, seed: 1 }));
    const failing: RunStore = Object.create(source, {
      scanRuns: {
        value: async (query: Parameters<RunStore["scanRuns"]>[0]) => {
          if (query.after !== undefined) throw new StoreError("storage", "disk on fire");
          return source.scanRuns(query);
        },
      },
    }) as RunStore;
    const sub = mkdtempSync(join(dir, "atomic-"));
    const path = join(sub, "runs.msgpack");
    await expect(exportRuns(failing, { appId: "app", functionId: "fn", pageSize: 10 }, path)).rejects.toThrow(/disk on fire/);
    expect(readdirSync(sub)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it("frames every MessagePack type correctly", () => {
    const values: unknown[] = [
      0, 127, 128, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31) - 1, -(2 ** 53),
      0.5, null, true, false, "", "a".repeat(31), "a".repeat(32), "a".repeat(256), "a".repeat(65536),
      new Uint8Array(0), new Uint8Array(256), new Uint8Array(65536), [], Array.from({ length: 16 }, () => 1), Array.from({ length: 65536 }, () => 1),
      {}, Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])), Object.fromEntries(Array.from({ length: 65536 }, (_, i) => [`k${i}`, null])),
      new Date(1), new Date(2 ** 40), { nested: [{ deep: [[["x"]]] }] },
    ];
    for (const value of values) {
      const bytes = encode(value);
      expect(messagePackObjectLength(bytes, 0, bytes.length)).toBe(bytes.length);
      expect(messagePackObjectLength(bytes, 0, bytes.length - 1)).toBe(-1);
      const padded = new Uint8Array(bytes.length + 3);
      padded.set(bytes, 1);
      expect(messagePackObjectLength(padded, 1, padded.length)).toBe(bytes.length);
    }
    const float32 = new Uint8Array([0xca, 0, 0, 0, 0]);
    expect(messagePackObjectLength(float32, 0, 5)).toBe(5);
    const ext = [new Uint8Array([0xd4, 1, 0]), new Uint8Array([0xc7, 2, 1, 0, 0]), new Uint8Array([0xd8, 1, ...new Array<number>(16).fill(0)])];
    for (const bytes of ext) expect(messagePackObjectLength(bytes, 0, bytes.length)).toBe(bytes.length);
    expect(() => messagePackObjectLength(new Uint8Array([0x92, 0xc1, 0]), 0, 3)).toThrow(/0xc1/);
  });
});

describe("JSON Lines run files", () => {
  it("round-trips through .jsonl with plain run records, one per line", async () => {
    const source = new MemoryRunStore();
    await source.insertRuns(richRuns);
    const path = file("jsonl");
    expect(await exportRuns(source, { environmentId: "prod", appId: "app", functionId: "fn" }, path)).toEqual({ exported: 3 });
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).map((l) => JSON.parse(l) as unknown)).toEqual(richRuns.map(expectedStored));
    const target = new MemoryRunStore();
    expect(await importRuns(target, path)).toEqual({ imported: 3 });
    for (const run of richRuns) expect(await target.getRun(run.id)).toEqual(expectedStored(run));
  });

  it("keeps a __proto__ key, which MessagePack cannot carry", async () => {
    const run = makeRun({ id: "PROTO", event: { name: "e", data: JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown> } });
    const source = new MemoryRunStore();
    await source.insertRuns([run]);
    const path = file("jsonl");
    await exportRuns(source, { appId: "app", functionId: "fn" }, path);
    const [back] = await readAll(path);
    expect(Object.hasOwn(back!.event.data, "__proto__")).toBe(true);
    expect(back!.event.data).toEqual(run.event.data);
  });

  it("accepts an optional header line, blank lines, CRLF and a last line without newline", async () => {
    const path = file("ndjson");
    const a = JSON.stringify(makeRun({ id: "A" }));
    const b = JSON.stringify(makeRun({ id: "B", status: "failed" }));
    writeFileSync(path, `{"format":"cancelkit.runs","version":1}\r\n\n${a}\r\n   \n${b}`);
    expect((await readAll(path)).map((r) => [r.id, r.status])).toEqual([
      ["A", "running"],
      ["B", "failed"],
    ]);
  });

  it("reports bad JSON, truncation, invalid UTF-8 and invalid records with record and line numbers", async () => {
    const a = JSON.stringify(makeRun({ id: "A" }));
    const truncated = file("jsonl");
    writeFileSync(truncated, `${a}\n\n${a.slice(0, -5)}`);
    let error = await catchError(importRuns(new MemoryRunStore(), truncated));
    expect(error.message).toMatch(/record 2: line 3: not valid JSON/);
    expect(error.imported).toBe(0);

    const invalid = file("jsonl");
    writeFileSync(invalid, `${a}\n${JSON.stringify({ ...makeRun({ id: "B" }), startedAt: "yesterday" })}\n`);
    error = await catchError(importRuns(new MemoryRunStore(), invalid));
    expect(error.message).toMatch(/record 2: line 2: run \(id "B"\): startedAt must be an integer/);

    const binary = file("jsonl");
    writeFileSync(binary, Buffer.concat([Buffer.from(`${a}\n`), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])]));
    expect((await catchError(importRuns(new MemoryRunStore(), binary))).message).toMatch(/record 2: line 2: not valid UTF-8/);

    const header = file("jsonl");
    writeFileSync(header, `{"format":"something-else","version":1}\n${a}\n`);
    expect((await catchError(importRuns(new MemoryRunStore(), header))).message).toMatch(/header: this is a "something-else" file/);

    const long = file("jsonl");
    writeFileSync(long, `${a}\n${"x".repeat(5000)}\n`);
    error = await catchError(importRuns(new MemoryRunStore(), long, { maxRecordBytes: 1000 }));
    expect(error.message).toMatch(/line 2 is larger than the 1000-byte limit/);
  });
});

describe("cancellation batch streams", () => {
  const batch = (i: number, runIds: string[]): CancellationBatch => ({ cancellationId: "01HCANCELBATCH", runIds, at: BASE_TIME + i });

  it("appends batches, also across reopen, and reads them back in order", async () => {
    const path = file("msgpack");
    const writer = await CancellationBatchWriter.open(path);
    await writer.write(batch(1, ["R1", "R2"]));
    // Concurrent writes are queued, never interleaved.
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.write(batch(i + 2, Array.from({ length: 50 }, (_, k) => `R-${i}-${k}`)))));
    await writer.close();
    await writer.close();
    const again = await CancellationBatchWriter.open(path, { sync: true });
    await again.write(batch(99, []));
    await again.close();
    const read: CancellationBatch[] = [];
    for await (const b of readCancellationBatches(path)) read.push(b);
    expect(read.length).toBe(22);
    expect(read[0]).toEqual(batch(1, ["R1", "R2"]));
    expect(read.slice(1, 21).map((b) => b.at).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => BASE_TIME + i + 2));
    for (const b of read.slice(1, 21)) expect(b.runIds.length).toBe(50);
    expect(read[21]).toEqual(batch(99, []));
    const objects = [...decodeMulti(readFileSync(path))];
    expect(objects[0]).toEqual({ format: "cancelkit.cancellation-batches", version: 1 });
    expect(objects[1]).toEqual({ c: "01HCANCELBATCH", r: ["R1", "R2"], t: BASE_TIME + 1 });
  });

  it("rejects bad batches, writes after close, foreign files and torn tails", async () => {
    const path = file("msgpack");
    const writer = await CancellationBatchWriter.open(path);
    expect(() => writer.write({ cancellationId: "", runIds: [], at: 1 })).toThrow(StoreError);
    expect(() => writer.write({ cancellationId: "C", runIds: [3 as unknown as string], at: 1 })).toThrow(/runIds/);
    await writer.write(batch(1, ["R1"]));
    await writer.close();
    await expect(writer.write(batch(2, ["R2"]))).rejects.toMatchObject({ code: "closed" });

    const runsFile = file("msgpack");
    writeRunFile(runsFile, []);
    await expect(CancellationBatchWriter.open(runsFile)).rejects.toThrow(/this is a "cancelkit.runs" file, not cancelkit.cancellation-batches/);

    const torn = readFileSync(path);
    const tornPath = file("msgpack");
    writeFileSync(tornPath, Buffer.concat([torn, encode({ c: "C", r: ["x", "y"], t: 5 }).subarray(0, 6)]));
    const seen: CancellationBatch[] = [];
    const error = await catchError(
      (async () => {
        for await (const b of readCancellationBatches(tornPath)) seen.push(b);
      })(),
    );
    expect(seen.length).toBe(1);
    expect(error.message).toMatch(/record 2: truncated/);
  });
});
