/**
 * Cancellation changes across processes: every creation and deletion sends a notification in its
 * own transaction (`pg_notify`, delivered on commit), and a watch `LISTEN`s on a connection of its
 * own (not one of the pool's).
 *
 * A notification names the schema (stores of other schemas share the channel), the store object
 * that made the change (its own watches heard of it already), the operation and the id. A deleted
 * id is reported as it comes; a created one is read first, and notifications are handled one after
 * the other, so a deletion never overtakes the creation before it. When the connection fails the
 * watch reconnects (after 0.1 s, doubling to at most 5 s) and reports `reload`: notifications sent
 * while it was away are lost.
 *
 * @module
 */
import pg from "pg";
import type { StopWatching } from "../base.js";
import type { CheckedWatchOptions } from "../watch-checks.js";
import type { CancellationChange } from "../types.js";
import { getCancellation } from "./cancellations.js";
import type { Database } from "./db.js";
import { CHANGES_CHANNEL, parseNotice, type ChangeNotice } from "./notices.js";

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5000;

/** Listens for other store objects' changes to `db`'s cancellations; see the module comment. */
export async function watchChanges(
  db: Database,
  origin: string,
  emit: (change: CancellationChange) => void,
  options: CheckedWatchOptions,
): Promise<StopWatching> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  // Notices are handled in order: a creation is read before the next notice is looked at.
  let queue: Promise<void> = Promise.resolve();

  const handle = async (notice: ChangeNotice): Promise<void> => {
    if (notice.op === "d") {
      emit({ kind: "deleted", id: notice.id });
      return;
    }
    const record = await getCancellation(db, notice.id, undefined);
    // Gone already: its deletion's notice follows.
    if (record !== undefined) emit({ kind: "created", record });
  };

  const onNotification = (message: pg.Notification): void => {
    if (message.channel !== CHANGES_CHANNEL) return;
    const notice = parseNotice(message.payload);
    if (notice === undefined || notice.s !== db.schema || notice.o === origin) return;
    queue = queue.then(() => handle(notice)).catch((error: unknown) => {
      options.onError?.(error);
      // The change is lost to this watch: whoever listens reloads.
      emit({ kind: "reload" });
    });
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: db.connectionString, application_name: "cancelkit watch" });
    next.on("notification", onNotification);
    next.on("error", (error) => lost(next, error));
    next.on("end", () => lost(next, undefined));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      next.removeAllListeners();
      next.on("error", () => {});
      await next.end().catch(() => {});
      throw error;
    }
    client = next;
  };

  const lost = (which: pg.Client, error: unknown): void => {
    if (which !== client || stopped) return;
    client = undefined;
    which.removeAllListeners();
    which.on("error", () => {});
    which.end().catch(() => {});
    if (error !== undefined) options.onError?.(error);
    scheduleReconnect();
  };

  const scheduleReconnect = (): void => {
    if (stopped || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => {
          retryMs = FIRST_RETRY_MS;
          // Whatever was notified while disconnected is lost.
          emit({ kind: "reload" });
        },
        (error: unknown) => {
          options.onError?.(error);
          retryMs = Math.min(LAST_RETRY_MS, retryMs * 2);
          scheduleReconnect();
        },
      );
    }, retryMs);
    retryTimer.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    const current = client;
    client = undefined;
    if (current !== undefined) {
      current.removeAllListeners();
      current.on("error", () => {});
      await current.end().catch(() => {});
    }
    await queue;
  };
}
