/**
 * The page reader of a scan: reads a range's pages in keyset order, hands the store the pushdown
 * hint, and reads ahead while the scan loop decides and commits the current page.
 *
 * - **Read-ahead.** Each page read ahead is requested when the one before it arrives (its `next`
 *   says where it starts), so one scan runs at a time, and at most {@link READ_AHEAD_PAGES} wait.
 *   The pages are disjoint, so what a commit changes is never in a page read ahead; a run of a
 *   page read ahead that finishes meanwhile is caught by the compare-and-set as always.
 * - **Pushdown.** A hint the store rejects as an invalid query is only an optimisation lost: the
 *   reader drops it and reads on without it.
 *
 * @module
 */
import { StoreError, compareCursor, type BoundedScanQuery, type Cursor, type PushdownHint, type RunStore, type ScanPage } from "../stores/types.js";

/** Pages the reader reads ahead of the one the loop processes. */
export const READ_AHEAD_PAGES = 2;

/** A page read ahead. */
interface Ahead {
  readonly after: Cursor;
  readonly page: Promise<ScanPage>;
  arrived?: ScanPage;
  chained: boolean;
}

/** The window (or shard) a reader scans: a scan query without its position and hint. */
export type RangeQuery = Omit<BoundedScanQuery, "after" | "pushdown">;

/** Reads the pages of one range; see the module comment. */
export class PageReader {
  readonly #store: RunStore;
  readonly #query: RangeQuery;
  #hint: PushdownHint | undefined;
  readonly #ahead: Ahead[] = [];
  #stopped = false;

  /**
   * @param store - The store to scan.
   * @param query - The range: window, `until`, page size.
   * @param hint - The pushdown prefilter, if any.
   */
  constructor(store: RunStore, query: RangeQuery, hint: PushdownHint | undefined) {
    this.#store = store;
    this.#query = query;
    this.#hint = hint;
  }

  /**
   * The page after `after` (from the range's start when absent), with the pushdown: the one read
   * ahead when it starts there, else a fresh read. Starts reading the next pages.
   */
  async read(after: Cursor | undefined): Promise<ScanPage> {
    let page: ScanPage;
    const ahead = this.#ahead;
    const head = ahead[0];
    if (head !== undefined && after !== undefined && compareCursor(head.after, after) === 0) {
      ahead.shift();
      page = await head.page;
    } else {
      ahead.length = 0;
      page = await this.#scan(after, true);
    }
    const tail = ahead[ahead.length - 1];
    if (tail === undefined) {
      if (page.next !== undefined) this.#readAhead(page.next);
    } else this.#chain(tail);
    return page;
  }

  /** The page after `after` again, without the pushdown (and without reading ahead). */
  reread(after: Cursor | undefined): Promise<ScanPage> {
    return this.#scan(after, false);
  }

  /** Reads nothing more ahead; pages already requested are left unread. */
  stop(): void {
    this.#stopped = true;
  }

  async #scan(after: Cursor | undefined, usePushdown: boolean): Promise<ScanPage> {
    const query = (hint: PushdownHint | undefined): BoundedScanQuery => ({
      ...this.#query,
      ...(after !== undefined ? { after } : {}),
      ...(hint !== undefined ? { pushdown: hint } : {}),
    });
    const hint = this.#hint;
    if (!usePushdown || hint === undefined) return this.#store.scanRuns(query(undefined));
    try {
      return await this.#store.scanRuns(query(hint));
    } catch (error) {
      // A prefilter the store cannot run is only an optimisation lost: scan without it.
      if (!(error instanceof StoreError && error.code === "invalid_query")) throw error;
      this.#hint = undefined;
      return this.#store.scanRuns(query(undefined));
    }
  }

  /** Requests the page after the last one read ahead, once it arrived (see the module comment). */
  #chain(entry: Ahead): void {
    const next = entry.arrived?.next;
    const ahead = this.#ahead;
    if (this.#stopped || entry.chained || next === undefined || ahead[ahead.length - 1] !== entry || ahead.length >= READ_AHEAD_PAGES) return;
    entry.chained = true;
    this.#readAhead(next);
  }

  #readAhead(after: Cursor): void {
    const page = this.#scan(after, true);
    const entry: Ahead = { after, page, chained: false };
    this.#ahead.push(entry);
    page.then(
      (arrived) => {
        entry.arrived = arrived;
        this.#chain(entry);
      },
      // Left unread when the job stops first: a failure must not surface as an unhandled
      // rejection (when the page is read, awaiting it still throws).
      () => undefined,
    );
  }
}
