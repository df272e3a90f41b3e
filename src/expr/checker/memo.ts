/**
 * The checker's memo of overload resolutions: calls whose argument types hold no type variable
 * resolve the same way every time, so their result is remembered per function declaration.
 *
 * @module
 */
import type { FunctionDecl } from "../decls.js";
import { isGround, type Type } from "../types.js";

/** A remembered overload resolution: the call's type and its reference (shared, never mutated). */
export interface Resolution<Ref = unknown> {
  readonly result: Type;
  readonly ref: Ref;
}

/** A node of a function's resolution memo: the resolution for the argument types on the way here. */
export interface MemoNode {
  resolution: Resolution | undefined;
  next: Map<Type, MemoNode> | undefined;
}

/** The memo of one function: global and member calls apart, and the number of resolutions kept. */
interface FunctionMemo {
  readonly global: MemoNode;
  readonly member: MemoNode;
  size: number;
}

/**
 * Resolutions of calls whose argument types hold no type variable, per function declaration, in
 * a tree keyed by the argument type objects one after the other. Types are compared by identity
 * (the primitive types are shared instances and `listType`/`mapType` intern theirs), so a lookup
 * builds no key. Declarations live as long as their dialect; the resolutions kept per
 * declaration are bounded, since argument types may nest without bound.
 */
let resolutions = new WeakMap<FunctionDecl, FunctionMemo>();
const MAX_MEMO_ENTRIES = 256;

/** Forgets every remembered resolution. Internal; for tests comparing resolution with and without them. */
export function resetResolutionMemo(): void {
  resolutions = new WeakMap();
}

/**
 * The memo node for these argument types, created on the way when `create`; undefined when an
 * argument type holds a type variable (its result depends on the variable's binding).
 */
export function memoNode(f: FunctionDecl, member: boolean, argTypes: readonly Type[], create: boolean): MemoNode | undefined {
  let memo = resolutions.get(f);
  if (memo === undefined) {
    if (!create) return undefined;
    const root = (): MemoNode => ({ resolution: undefined, next: undefined });
    memo = { global: root(), member: root(), size: 0 };
    resolutions.set(f, memo);
  }
  let node: MemoNode | undefined = member ? memo.member : memo.global;
  for (const t of argTypes) {
    if (!isGround(t)) return undefined;
    let next: MemoNode | undefined = node.next?.get(t);
    if (next === undefined) {
      if (!create) return undefined;
      if (memo.size >= MAX_MEMO_ENTRIES) return undefined;
      next = { resolution: undefined, next: undefined };
      (node.next ??= new Map()).set(t, next);
    }
    node = next;
  }
  if (create) memo.size++;
  return node;
}

