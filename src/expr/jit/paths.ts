/**
 * Generated field-path accessors.
 *
 * A closure that reads `v[name]` for whatever `name` it was built with shares one inline cache
 * with every other closure from the same source line, so V8 sees a megamorphic property load and
 * a field path costs tens of nanoseconds. For the paths an expression reads (`event.data.userId`)
 * we therefore generate one small function per path, whose property loads are monomorphic, as in
 * hand-written code. The generated function only takes the fast path: plain objects with the
 * property present. Anything else returns {@link SLOW} and the caller runs the general closure,
 * which implements the dialect's rules for missing keys, maps, errors and unknowns.
 *
 * Field names are embedded with `JSON.stringify`, so no source text reaches the generated code
 * unquoted. The caller has checked that code may be generated (`mayGenerateCode` in `available.ts`).
 *
 * @module
 */
import { isPrototypeName } from "../runtime/access.js";
import type { Ctx } from "../compiler/context.js";

/** Returned by a generated accessor when the fast path does not apply. */
export const SLOW: unique symbol = Symbol("slow path");

/** Where a path starts: the activation (a global variable) or a comprehension slot. */
export type PathRoot = { readonly kind: "activation" } | { readonly kind: "slot"; readonly index: number };

/** A generated accessor: the value at the path, or {@link SLOW}. */
export type PathAccessor = (c: Ctx) => unknown;

/**
 * Generates an accessor reading `keys` one after the other from the root. Returns `undefined`
 * when a key could reach `Object.prototype`.
 */
export function generatePathAccessor(root: PathRoot, keys: readonly string[]): PathAccessor | undefined {
  if (keys.length === 0) return undefined;
  // Generated functions are pure, so one per distinct path serves every program. The cache is a
  // tree of field names (no key string to build and hash per lookup); it is dropped whole when
  // it holds too many paths.
  let node = root.kind === "activation" ? activationPaths : slotPaths(root.index);
  for (const key of keys) {
    let next = node.next?.get(key);
    if (next === undefined) {
      next = { accessor: undefined, next: undefined };
      (node.next ??= new Map()).set(key, next);
    }
    node = next;
  }
  if (node.accessor !== undefined) return node.accessor === REFUSED ? undefined : node.accessor;
  const made = keys.some(isPrototypeName) ? undefined : build(root, keys);
  if (++cachedPaths > CACHE_LIMIT) {
    cachedPaths = 1;
    activationPaths.next = undefined;
    slotRoots.clear();
  }
  node.accessor = made ?? REFUSED;
  return made;
}

/** A path of the cache: the accessor of the path that ends here, and the longer paths. */
interface PathNode {
  accessor: PathAccessor | typeof REFUSED | undefined;
  next: Map<string, PathNode> | undefined;
}

/** Cached for a path that gets no accessor. */
const REFUSED: unique symbol = Symbol("no accessor");
const CACHE_LIMIT = 2000;
let cachedPaths = 0;
const activationPaths: PathNode = { accessor: undefined, next: undefined };
const slotRoots = new Map<number, PathNode>();

function slotPaths(index: number): PathNode {
  let node = slotRoots.get(index);
  if (node === undefined) slotRoots.set(index, (node = { accessor: undefined, next: undefined }));
  return node;
}

function build(root: PathRoot, keys: readonly string[]): PathAccessor | undefined {
  const start = root.kind === "activation" ? "c.act" : `c.slots[${root.index | 0}]`;
  // One constant per step (not one reassigned variable): V8 then keeps precise type feedback
  // for each step, about twice as fast.
  let body = `const v0 = ${start};\n`;
  keys.forEach((key, k) => {
    const v = `v${k}`;
    body +=
      `if (typeof ${v} !== "object" || ${v} === null || ${v}.__proto__ !== OBJECT_PROTO) return SLOW;\n` +
      `const v${k + 1} = ${v}[${JSON.stringify(key)}];\n` +
      `if (v${k + 1} === undefined) return SLOW;\n`;
  });
  // A bigint is checked against the int64 range by the planned closure.
  body += `if (typeof v${keys.length} === "bigint") return SLOW;\nreturn v${keys.length};\n`;
  try {
    const factory = new Function("SLOW", "OBJECT_PROTO", `"use strict";\nreturn function access(c) {\n${body}};`) as (
      slow: typeof SLOW,
      objectProto: object,
    ) => PathAccessor;
    return factory(SLOW, Object.prototype);
  } catch {
    return undefined;
  }
}
