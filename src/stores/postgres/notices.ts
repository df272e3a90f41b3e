/**
 * The notifications of cancellation changes (see `watch.ts`): the channel, what a notice carries,
 * and the statement that sends one inside a change's transaction.
 *
 * @module
 */
import type { Database } from "./db.js";

/** The channel every store's notifications go to. */
export const CHANGES_CHANNEL = "cancelkit_cancellations";

/** What a notification carries: schema, origin (store object), operation, cancellation id. */
export interface ChangeNotice {
  readonly s: string;
  readonly o: string;
  readonly op: "c" | "d";
  readonly id: string;
}

/** The `SELECT` that sends one notice, with its parameters (run it inside the change's transaction). */
export function noticeStatement(db: Database, origin: string, op: "c" | "d", id: string): { sql: string; params: unknown[] } {
  const notice: ChangeNotice = { s: db.schema, o: origin, op, id };
  return { sql: "SELECT pg_notify($1, $2)", params: [CHANGES_CHANNEL, JSON.stringify(notice)] };
}

/** The notice in a notification's payload, or `undefined` when it is not one. */
export function parseNotice(payload: string | undefined): ChangeNotice | undefined {
  if (payload === undefined) return undefined;
  try {
    const v = JSON.parse(payload) as Partial<ChangeNotice>;
    if (typeof v.s === "string" && typeof v.o === "string" && (v.op === "c" || v.op === "d") && typeof v.id === "string") return v as ChangeNotice;
  } catch {
    // Not one of ours.
  }
  return undefined;
}

