/**
 * Streaming import and export of run records, and a stream of cancellation batches for
 * downstream consumers, as MessagePack (`@msgpack/msgpack`) or JSON Lines.
 *
 * Memory stays flat for any file size: files are read in 64 KiB chunks and decoded one record at a
 * time; imports hold at most one batch; exports page through the store and write in 64 KiB
 * chunks, waiting for each write to finish (backpressure).
 *
 * ## On-disk formats
 *
 * ### Run file, MessagePack (`cancelkit.runs`, version 1)
 *
 * A file is a plain concatenation of MessagePack objects: no outer array, no length prefixes, so
 * it is written and read one object at a time and `cat a b` of two files' records is meaningful.
 *
 * 1. A header map: `{ "format": "cancelkit.runs", "version": 1 }`. Readers refuse other formats
 *    and higher versions, and ignore header keys they do not know.
 * 2. One map per run, with these keys (no others):
 *
 *    | key | MessagePack type | run field | notes |
 *    | --- | --- | --- | --- |
 *    | `i` | str | `id` | 1–128 printable ASCII characters |
 *    | `e` | str | `environmentId` | always written |
 *    | `a` | str | `appId` | |
 *    | `f` | str | `functionId` | |
 *    | `t` | int | `startedAt` | epoch milliseconds |
 *    | `s` | str | `status` | `queued`, `running`, `sleeping`, `waiting`, `completed`, `failed`, `cancelled` |
 *    | `v` | map | `event` | the event as is: `name` (str), `data` (map), optional `id` (str), `ts` (number), `user` (map) |
 *    | `c` | str | `cancellationId` | only when set |
 *
 *    Event values are JSON values: nil, bool, int, float 64, str (UTF-8), array, map with str keys.
 *    Integers are written as MessagePack ints, other numbers as float 64. No bin, no ext types.
 *
 * ### Cancellation batch stream, MessagePack (`cancelkit.cancellation-batches`, version 1)
 *
 * 1. A header map: `{ "format": "cancelkit.cancellation-batches", "version": 1 }`.
 * 2. One map per committed batch, appended as the job goes: `{ "c": cancellationId (str),
 *    "r": [run id (str), …], "t": time the batch was committed (epoch ms, int) }`; `r` lists the
 *    runs that batch actually cancelled.
 *
 * A consumer can read the file while it grows; a writer that crashed mid-append may leave a torn
 * last object, which readers report as truncated.
 *
 * ### Run file, JSON Lines (`.jsonl` or `.ndjson`)
 *
 * UTF-8, one JSON object per line, lines ending in `\n` (`\r\n` accepted). Each object is a run
 * record with its TypeScript field names (`id`, `environmentId`, `appId`, `functionId`,
 * `startedAt`, `status`, `event`, `cancellationId`). Exports write no header; imports accept an
 * optional first line `{"format":"cancelkit.runs","version":1}` and skip blank lines.
 *
 * ### Errors
 *
 * A corrupt or truncated file is rejected with a {@link RunFileError} naming the file and the
 * record number (1-based, the header not counted; JSON Lines also give the line). A record is
 * decoded and validated completely before it is handed on, and {@link importRuns} is all or
 * nothing: after an error no run of the file is in the store.
 *
 * Limitation: `@msgpack/msgpack` refuses to decode a map key `__proto__` (its guard against
 * prototype pollution), so a run whose event holds such a key exports to MessagePack but cannot be
 * imported from it; use JSON Lines for such data.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { Decoder, Encoder } from "@msgpack/msgpack";
import { isValidId, normalizeRunRecord } from "../stores/checks.js";
import {
  DEFAULT_ENVIRONMENT_ID,
  MAX_EVENT_DEPTH,
  StoreError,
  type CancellationBatch,
  type Cursor,
  type RunRecord,
  type RunStore,
} from "../stores/types.js";

/** Format name in the header of a run file. */
export const RUN_FILE_FORMAT = "cancelkit.runs";
/** Version of the run file format this code writes and reads. */
export const RUN_FILE_VERSION = 1;
/** Format name in the header of a cancellation batch stream. */
export const CANCELLATION_BATCH_FORMAT = "cancelkit.cancellation-batches";
/** Version of the cancellation batch format this code writes and reads. */
export const CANCELLATION_BATCH_VERSION = 1;

/** `msgpack`: the MessagePack stream format; `jsonl`: JSON Lines. */
export type RunFileFormat = "msgpack" | "jsonl";

/** Error for a file that cannot be read: corrupt, truncated, of another format, or with an invalid record. */
export class RunFileError extends StoreError {
  override readonly name: string = "RunFileError";
  /** The file. */
  readonly path: string;
  /** 1-based number of the offending record (the header not counted); 0 for the header. */
  readonly recordNumber: number;
  /** Records imported before the error: always 0 since {@link importRuns} is all or nothing. */
  imported = 0;

  constructor(path: string, recordNumber: number, message: string, options?: { readonly cause?: unknown }) {
    super("invalid_file", `${path}: ${recordNumber === 0 ? "header" : `record ${recordNumber}`}: ${message}`, options);
    this.path = path;
    this.recordNumber = recordNumber;
  }
}

/** Options of the file readers. */
export interface ReadRunFileOptions {
  /** File format; by default from the extension (`.jsonl`, `.ndjson` → JSON Lines, else MessagePack). */
  readonly format?: RunFileFormat;
  /** Largest record accepted, bytes; a bigger one is reported as corrupt. Default 64 MiB. */
  readonly maxRecordBytes?: number;
}

/** The format a path's extension implies: `.jsonl`/`.ndjson` → `jsonl`, anything else → `msgpack`. */
export function runFileFormatOf(path: string): RunFileFormat {
  const lower = path.toLowerCase();
  return lower.endsWith(".jsonl") || lower.endsWith(".ndjson") ? "jsonl" : "msgpack";
}

const READ_CHUNK_BYTES = 64 * 1024;
const WRITE_CHUNK_BYTES = 64 * 1024;
const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Reading MessagePack streams
// ---------------------------------------------------------------------------------------------

class FramingError extends Error {}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/**
 * Byte length of the complete MessagePack object starting at `start`, or -1 when `bytes` ends
 * before it does. Walks only type headers and skips payloads, so it costs one step per value.
 *
 * We frame objects ourselves because `decodeMultiStream` silently drops a truncated last object;
 * framing also bounds the memory one object may take.
 */
export function messagePackObjectLength(bytes: Uint8Array, start: number, end: number): number {
  let pos = start;
  let pending = 1;
  while (pending > 0) {
    if (pos >= end) return -1;
    const head = bytes[pos]!;
    pending--;
    if (head <= 0x7f || head >= 0xe0) {
      pos += 1;
    } else if (head <= 0x8f) {
      pending += 2 * (head & 0x0f);
      pos += 1;
    } else if (head <= 0x9f) {
      pending += head & 0x0f;
      pos += 1;
    } else if (head <= 0xbf) {
      pos += 1 + (head & 0x1f);
    } else {
      // Sizes that follow the head byte need those bytes to be there.
      switch (head) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          pos += 1;
          break;
        case 0xc1:
          throw new FramingError(`byte 0xc1 at offset ${pos} is never used in MessagePack`);
        case 0xc4: // bin 8
        case 0xd9: // str 8
          if (pos + 2 > end) return -1;
          pos += 2 + bytes[pos + 1]!;
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          if (pos + 3 > end) return -1;
          pos += 3 + u16(bytes, pos + 1);
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          if (pos + 5 > end) return -1;
          pos += 5 + u32(bytes, pos + 1);
          break;
        case 0xc7: // ext 8
          if (pos + 2 > end) return -1;
          pos += 3 + bytes[pos + 1]!;
          break;
        case 0xc8: // ext 16
          if (pos + 3 > end) return -1;
          pos += 4 + u16(bytes, pos + 1);
          break;
        case 0xc9: // ext 32
          if (pos + 5 > end) return -1;
          pos += 6 + u32(bytes, pos + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          pos += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          pos += 9;
          break;
        case 0xcc:
        case 0xd0:
          pos += 2;
          break;
        case 0xcd:
        case 0xd1:
          pos += 3;
          break;
        case 0xd4:
          pos += 3;
          break;
        case 0xd5:
          pos += 4;
          break;
        case 0xd6:
          pos += 6;
          break;
        case 0xd7:
          pos += 10;
          break;
        case 0xd8:
          pos += 18;
          break;
        case 0xdc: // array 16
          if (pos + 3 > end) return -1;
          pending += u16(bytes, pos + 1);
          pos += 3;
          break;
        case 0xdd: // array 32
          if (pos + 5 > end) return -1;
          pending += u32(bytes, pos + 1);
          pos += 5;
          break;
        case 0xde: // map 16
          if (pos + 3 > end) return -1;
          pending += 2 * u16(bytes, pos + 1);
          pos += 3;
          break;
        case 0xdf: // map 32
          if (pos + 5 > end) return -1;
          pending += 2 * u32(bytes, pos + 1);
          pos += 5;
          break;
        default:
          throw new FramingError(`unexpected byte 0x${head.toString(16)} at offset ${pos}`);
      }
    }
  }
  return pos <= end ? pos - start : -1;
}

/**
 * Yields the raw bytes of each complete MessagePack object of a file, in order (index 0 first).
 * The yielded view is valid until the next iteration.
 */
async function* messagePackFrames(path: string, maxRecordBytes: number): AsyncGenerator<Uint8Array> {
  let parts: Buffer[] = [];
  let partsBytes = 0;
  // After a failed attempt on `n` buffered bytes, wait for 2n before trying again: a record
  // spread over many chunks is then scanned O(log n) times, not once per chunk.
  let retryAt = 0;
  let index = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  const drain = function* (final: boolean): Generator<Uint8Array> {
    const buffer = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partsBytes);
    let pos = 0;
    for (;;) {
      let length: number;
      try {
        length = messagePackObjectLength(buffer, pos, buffer.length);
      } catch (error) {
        throw new RunFileError(path, index, `corrupt MessagePack: ${(error as Error).message}`, { cause: error });
      }
      if (length < 0) break;
      if (length > maxRecordBytes) throw new RunFileError(path, index, `larger than the ${maxRecordBytes}-byte limit`);
      yield buffer.subarray(pos, pos + length);
      pos += length;
      index++;
    }
    const rest = buffer.length - pos;
    if (rest > maxRecordBytes) throw new RunFileError(path, index, `larger than the ${maxRecordBytes}-byte limit`);
    if (final && rest > 0) {
      throw new RunFileError(path, index, `truncated: the file ends ${rest} byte(s) into this record`);
    }
    parts = rest > 0 ? [buffer.subarray(pos)] : [];
    partsBytes = rest;
    retryAt = rest * 2;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      partsBytes += chunk.length;
      if (partsBytes < retryAt) continue;
      yield* drain(false);
    }
  } catch (error) {
    if (error instanceof RunFileError) throw error;
    throw new RunFileError(path, index, `cannot read the file: ${(error as Error).message}`, { cause: error });
  }
  if (partsBytes > 0) yield* drain(true);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function checkHeader(path: string, header: unknown, format: string, version: number): void {
  if (!isMap(header) || typeof header["format"] !== "string") {
    throw new RunFileError(path, 0, `not a ${format} file (no header with a "format" field)`);
  }
  if (header["format"] !== format) {
    throw new RunFileError(path, 0, `this is a ${JSON.stringify(header["format"])} file, not ${format}`);
  }
  if (typeof header["version"] !== "number" || !Number.isInteger(header["version"]) || header["version"] < 1) {
    throw new RunFileError(path, 0, `invalid version ${JSON.stringify(header["version"])}`);
  }
  if (header["version"] > version) {
    throw new RunFileError(path, 0, `version ${header["version"]} is newer than this cancelkit reads (${version})`);
  }
}

/** Decodes every object of a MessagePack stream file after checking its header. */
async function* messagePackRecords(
  path: string,
  format: string,
  version: number,
  maxRecordBytes: number,
): AsyncGenerator<{ readonly value: unknown; readonly recordNumber: number }> {
  const decoder = new Decoder();
  let index = 0;
  for await (const frame of messagePackFrames(path, maxRecordBytes)) {
    let value: unknown;
    try {
      value = decoder.decode(frame);
    } catch (error) {
      const detail = (error as Error).message.includes("__proto__")
        ? `a map key "__proto__" cannot be decoded from MessagePack (use JSON Lines for such data)`
        : `corrupt MessagePack: ${(error as Error).message}`;
      throw new RunFileError(path, index, detail, { cause: error });
    }
    if (index === 0) checkHeader(path, value, format, version);
    else yield { value, recordNumber: index };
    index++;
  }
  if (index === 0) throw new RunFileError(path, 0, `empty file: no ${format} header`);
}

const RUN_FIELDS: Readonly<Record<string, keyof RunRecord>> = {
  i: "id",
  e: "environmentId",
  a: "appId",
  f: "functionId",
  t: "startedAt",
  s: "status",
  v: "event",
  c: "cancellationId",
};

function runFromMessagePack(path: string, value: unknown, recordNumber: number): RunRecord {
  if (!isMap(value)) throw new RunFileError(path, recordNumber, "a run record must be a map");
  const run: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = RUN_FIELDS[key];
    if (field === undefined) throw new RunFileError(path, recordNumber, `unknown key ${JSON.stringify(key)}`);
    run[field] = value[key];
  }
  return validRun(path, run, recordNumber, "");
}

function validRun(path: string, run: unknown, recordNumber: number, where: string): RunRecord {
  try {
    return normalizeRunRecord(run, { copy: false, label: "run" });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new RunFileError(path, recordNumber, `${where}${error.message}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading JSON Lines
// ---------------------------------------------------------------------------------------------

/** Yields the bytes of each line (without `\n`) and its 1-based line number. */
async function* jsonLines(path: string, maxRecordBytes: number): AsyncGenerator<{ readonly bytes: Uint8Array; readonly line: number }> {
  let parts: Buffer[] = [];
  let partsBytes = 0;
  let line = 0;
  const tooLong = () => new RunFileError(path, 0, `line ${line + 1} is larger than the ${maxRecordBytes}-byte limit`);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        if (partsBytes + piece.length > maxRecordBytes) throw tooLong();
        const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece], partsBytes + piece.length);
        parts = [];
        partsBytes = 0;
        line++;
        yield { bytes, line };
        start = nl + 1;
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start));
        partsBytes += chunk.length - start;
        if (partsBytes > maxRecordBytes) throw tooLong();
      }
    }
  } catch (error) {
    if (error instanceof RunFileError) throw error;
    throw new RunFileError(path, 0, `cannot read the file: ${(error as Error).message}`, { cause: error });
  }
  if (partsBytes > 0) {
    line++;
    yield { bytes: Buffer.concat(parts, partsBytes), line };
  }
}

async function* jsonLinesRuns(path: string, maxRecordBytes: number): AsyncGenerator<RunRecord> {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let recordNumber = 0;
  let first = true;
  for await (const { bytes, line } of jsonLines(path, maxRecordBytes)) {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (error) {
      throw new RunFileError(path, recordNumber + 1, `line ${line}: not valid UTF-8`, { cause: error });
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new RunFileError(path, recordNumber + 1, `line ${line}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (first && isMap(value) && "format" in value) {
      checkHeader(path, value, RUN_FILE_FORMAT, RUN_FILE_VERSION);
      first = false;
      continue;
    }
    first = false;
    recordNumber++;
    yield validRun(path, value, recordNumber, `line ${line}: `);
  }
}

/**
 * Reads the runs of a run file one by one (MessagePack or JSON Lines), validated.
 *
 * @throws {@link RunFileError} for a corrupt, truncated or foreign file or an invalid record.
 */
export async function* readRunFile(path: string, options: ReadRunFileOptions = {}): AsyncGenerator<RunRecord> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if ((options.format ?? runFileFormatOf(path)) === "jsonl") {
    yield* jsonLinesRuns(path, maxRecordBytes);
    return;
  }
  for await (const { value, recordNumber } of messagePackRecords(path, RUN_FILE_FORMAT, RUN_FILE_VERSION, maxRecordBytes)) {
    yield runFromMessagePack(path, value, recordNumber);
  }
}

/** Options of {@link importRuns}. */
export interface ImportRunsOptions extends ReadRunFileOptions {
  /** Runs handed to the store at a time (memory stays bounded by a batch). Default 1000. */
  readonly batchSize?: number;
}

/**
 * Streams the runs of a file into a store, `batchSize` at a time, all or nothing (through
 * `RunStore.insertRunStream`): on a bad record anywhere in the file a {@link RunFileError} naming
 * it is thrown and the store is left as it was.
 *
 * @returns How many runs were imported.
 */
export async function importRuns(store: RunStore, path: string, options: ImportRunsOptions = {}): Promise<{ readonly imported: number }> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new StoreError("invalid_option", "batchSize must be a positive integer");
  async function* batches(): AsyncGenerator<RunRecord[]> {
    let batch: RunRecord[] = [];
    for await (const run of readRunFile(path, options)) {
      batch.push(run);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  // All or nothing: a bad record anywhere leaves the store as it was.
  return { imported: await store.insertRunStream(batches()) };
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * Appends bytes to a file in `WRITE_CHUNK_BYTES` writes. Two chunk buffers alternate: one fills
 * while the other is being written, and a full chunk waits for the write before it (the
 * backpressure), so at most one write is in flight and memory stays at two chunks.
 */
class ChunkedFileWriter {
  readonly #handle: FileHandle;
  #buffer = Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
  #spare = Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
  #used = 0;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Copies `bytes` (which may be a shared encoder buffer) into the pending chunk. */
  async push(bytes: Uint8Array): Promise<void> {
    if (this.#used + bytes.length > this.#buffer.length) await this.#startWrite();
    if (bytes.length > this.#buffer.length) {
      await this.#inFlight;
      await writeFully(this.#handle, Buffer.from(bytes));
      return;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Appends text as UTF-8, encoding straight into the pending chunk (a string too long for a
   * chunk is encoded on its own).
   */
  async pushText(text: string): Promise<void> {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    if (this.#used + text.length * 3 > this.#buffer.length) {
      await this.#startWrite();
      if (text.length * 3 > this.#buffer.length) {
        await this.#inFlight;
        await writeFully(this.#handle, Buffer.from(text, "utf8"));
        return;
      }
    }
    this.#used += this.#buffer.write(text, this.#used, "utf8");
  }

  /** Waits for the previous write, then starts writing the pending chunk and swaps buffers. */
  async #startWrite(): Promise<void> {
    await this.#inFlight;
    if (this.#used === 0) return;
    const chunk = this.#buffer.subarray(0, this.#used);
    const write = writeFully(this.#handle, chunk);
    // Awaited by the next #startWrite or flush; marked handled now so that a failure while the
    // next chunk fills is not reported as an unhandled rejection.
    write.catch(() => undefined);
    this.#inFlight = write;
    [this.#buffer, this.#spare] = [this.#spare, this.#buffer];
    this.#used = 0;
  }

  /** Writes everything pending and waits for it. */
  async flush(): Promise<void> {
    await this.#startWrite();
    await this.#inFlight;
  }
}

/** Opens a file for writing; failures become `storage` {@link StoreError}s naming `shownPath`. */
async function openForWriting(path: string, flags: string, shownPath: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    throw new StoreError("storage", `cannot write ${shownPath}: ${(error as Error).message}`, { cause: error });
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

function newEncoder(): Encoder {
  // Depth: the record map, the event map, then the event's own nesting.
  return new Encoder({ maxDepth: MAX_EVENT_DEPTH + 4 });
}

function runToMessagePack(run: RunRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    i: run.id,
    e: run.environmentId ?? DEFAULT_ENVIRONMENT_ID,
    a: run.appId,
    f: run.functionId,
    t: run.startedAt,
    s: run.status,
    v: run.event,
  };
  if (run.cancellationId !== undefined) out["c"] = run.cancellationId;
  return out;
}

/** Options of {@link exportRuns}: which runs, and how. */
export interface ExportRunsOptions {
  /** Default {@link DEFAULT_ENVIRONMENT_ID}. */
  readonly environmentId?: string;
  readonly appId: string;
  readonly functionId: string;
  /** Inclusive lower bound on `startedAt`; none by default. */
  readonly startedAfter?: number;
  /** Inclusive upper bound on `startedAt`. Default `Number.MAX_SAFE_INTEGER` (no bound). */
  readonly startedBefore?: number;
  /** Runs read from the store per page. Default 1000. */
  readonly pageSize?: number;
  /** File format; by default from the extension (see {@link runFileFormatOf}). */
  readonly format?: RunFileFormat;
}

/**
 * Writes one function's runs of a window, in `(startedAt, id)` order, to a file. The file appears
 * complete or not at all: the runs go to a temporary file in the same directory, which is synced
 * and renamed over `path` at the end.
 *
 * @returns How many runs were written.
 */
export async function exportRuns(store: RunStore, options: ExportRunsOptions, path: string): Promise<{ readonly exported: number }> {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new StoreError("invalid_option", "pageSize must be a positive integer");
  const format = options.format ?? runFileFormatOf(path);
  const temporary = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const handle = await openForWriting(temporary, "wx", path);
  let exported = 0;
  try {
    const writer = new ChunkedFileWriter(handle);
    const encoder = newEncoder();
    if (format === "msgpack") await writer.push(encoder.encodeSharedRef({ format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION }));
    let after: Cursor | undefined;
    for (;;) {
      const page = await store.scanRuns({
        appId: options.appId,
        functionId: options.functionId,
        startedBefore: options.startedBefore ?? Number.MAX_SAFE_INTEGER,
        limit: pageSize,
        ...(options.environmentId === undefined ? {} : { environmentId: options.environmentId }),
        ...(options.startedAfter === undefined ? {} : { startedAfter: options.startedAfter }),
        ...(after === undefined ? {} : { after }),
      });
      for (const run of page.runs) {
        if (format === "msgpack") await writer.push(encoder.encodeSharedRef(runToMessagePack(run)));
        else await writer.pushText(`${JSON.stringify(run)}\n`);
        exported++;
      }
      if (page.next === undefined) break;
      after = page.next;
    }
    await writer.flush();
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  return { exported };
}

// ---------------------------------------------------------------------------------------------
// Cancellation batch streams
// ---------------------------------------------------------------------------------------------

export type { CancellationBatch };

/** Options of {@link CancellationBatchWriter.open}. */
export interface CancellationBatchWriterOptions {
  /** `fdatasync` after every batch, so a consumer never misses a batch after a power loss. Default `false`. */
  readonly sync?: boolean;
}

function checkBatch(batch: CancellationBatch): void {
  if (typeof batch !== "object" || batch === null) throw new StoreError("invalid_batch", "a cancellation batch must be an object");
  if (!isValidId(batch.cancellationId)) throw new StoreError("invalid_batch", "cancellation batch: cancellationId must be a valid id");
  if (!Array.isArray(batch.runIds) || !batch.runIds.every(isValidId)) {
    throw new StoreError("invalid_batch", "cancellation batch: runIds must be an array of valid ids");
  }
  if (typeof batch.at !== "number" || !Number.isFinite(batch.at)) throw new StoreError("invalid_batch", "cancellation batch: at must be a finite number");
}

/**
 * Appends cancellation batches to a MessagePack stream file (format in the module doc). Opening
 * an existing non-empty file checks its header and appends after its last batch. Writes are
 * queued: concurrent `write` calls never interleave their bytes.
 */
export class CancellationBatchWriter {
  readonly #handle: FileHandle;
  readonly #sync: boolean;
  readonly #encoder = newEncoder();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(handle: FileHandle, sync: boolean) {
    this.#handle = handle;
    this.#sync = sync;
  }

  /**
   * Opens (creating when missing) a batch stream file for appending.
   *
   * @throws {@link RunFileError} when the file exists but is not a cancellation batch stream.
   */
  static async open(path: string, options: CancellationBatchWriterOptions = {}): Promise<CancellationBatchWriter> {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > 0) {
      // Only the header is read; the batches after it are the consumer's business.
      const frames = messagePackFrames(path, DEFAULT_MAX_RECORD_BYTES);
      const first = await frames.next();
      await frames.return(undefined);
      let header: unknown;
      try {
        header = first.done === true ? undefined : new Decoder().decode(first.value);
      } catch (error) {
        throw new RunFileError(path, 0, `corrupt MessagePack: ${(error as Error).message}`, { cause: error });
      }
      checkHeader(path, header, CANCELLATION_BATCH_FORMAT, CANCELLATION_BATCH_VERSION);
    }
    const handle = await openForWriting(path, "a", path);
    const writer = new CancellationBatchWriter(handle, options.sync ?? false);
    if (size === 0) {
      await writeFully(handle, writer.#encoder.encode({ format: CANCELLATION_BATCH_FORMAT, version: CANCELLATION_BATCH_VERSION }));
    }
    return writer;
  }

  /** Appends one batch; resolves once its bytes are written (and synced, with `sync`). */
  write(batch: CancellationBatch): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError("closed", "the cancellation batch writer is closed"));
    checkBatch(batch);
    const bytes = this.#encoder.encode({ c: batch.cancellationId, r: [...batch.runIds], t: batch.at });
    const done = this.#queue.then(async () => {
      await writeFully(this.#handle, bytes);
      if (this.#sync) await this.#handle.datasync();
    });
    // Keep the queue going after a failed write; the caller of that write sees the failure.
    this.#queue = done.catch(() => undefined);
    return done;
  }

  /** Waits for queued writes and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#handle.close();
  }
}

/**
 * Reads the batches of a cancellation batch stream file in order.
 *
 * @throws {@link RunFileError} for a corrupt, truncated or foreign file.
 */
export async function* readCancellationBatches(path: string, options: Omit<ReadRunFileOptions, "format"> = {}): AsyncGenerator<CancellationBatch> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  for await (const { value, recordNumber } of messagePackRecords(path, CANCELLATION_BATCH_FORMAT, CANCELLATION_BATCH_VERSION, maxRecordBytes)) {
    if (!isMap(value)) throw new RunFileError(path, recordNumber, "a batch must be a map");
    const { c, r, t } = value;
    if (!isValidId(c)) throw new RunFileError(path, recordNumber, `"c" must be a cancellation id`);
    if (!Array.isArray(r) || !r.every(isValidId)) throw new RunFileError(path, recordNumber, `"r" must be an array of run ids`);
    if (typeof t !== "number" || !Number.isFinite(t)) throw new RunFileError(path, recordNumber, `"t" must be a number`);
    for (const key of Object.keys(value)) {
      if (key !== "c" && key !== "r" && key !== "t") throw new RunFileError(path, recordNumber, `unknown key ${JSON.stringify(key)}`);
    }
    yield { cancellationId: c, runIds: r as string[], at: t };
  }
}
