/**
 * CEL source text for generated test expressions.
 *
 * @module
 */

/** CEL source of a string literal (double-quoted). In `inngest`, literals are raw: escapes stay as text. */
export function celString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch.charCodeAt(0) < 0x20) out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
