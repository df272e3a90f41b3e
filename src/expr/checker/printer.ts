/**
 * Prints a checked AST as cel-go's checker tests do: every node followed by `~type` and, for
 * identifiers and calls, `^reference` (the resolved name, or the sorted ids of every overload that
 * may apply).
 *
 * @module
 */
import { isExpr, toDebugString, type DebugAdorner } from "../debug.js";
import { formatType } from "../types.js";
import type { CheckedAst } from "./checker.js";

/** The adorner printing `~type^reference` for checked nodes. */
export function semanticAdorner(checked: CheckedAst): DebugAdorner {
  return (node) => {
    if (!isExpr(node)) return "";
    let out = "";
    const t = checked.types.get(node.id);
    if (t !== undefined) out += `~${formatType(t)}`;
    if (node.kind === "ident" || node.kind === "call" || node.kind === "list" || node.kind === "struct" || node.kind === "select") {
      const ref = checked.refs.get(node.id);
      if (ref?.kind === "ident") out += `^${ref.name}`;
      else if (ref?.kind === "function") out += `^${ref.overloads.map((o) => o.id).sort().join("|")}`;
    }
    return out;
  };
}

/** The checked AST in cel-go's adorned debug format. */
export function toCheckedDebugString(checked: CheckedAst): string {
  return toDebugString(checked.expr, semanticAdorner(checked));
}
