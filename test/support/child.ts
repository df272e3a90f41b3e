/**
 * Test support: a TypeScript child process (run through `tsx` from the repository root) that
 * reports one JSON value per stdout line, and may be killed with SIGKILL from a line's handler.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** How a child ended, with every line it printed. */
export interface ChildExit<L> {
  readonly lines: L[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Children still running, to kill when a test file ends (or fails) early. */
export const runningChildren = new Set<ChildProcess>();

/**
 * Starts `script` with `args`; `onLine` sees each parsed line and may return true to kill the child
 * with SIGKILL at once. `kill` does the same from outside.
 */
export function startJsonLineChild<L>(
  script: string,
  args: readonly string[],
  onLine: (line: L) => boolean = () => false,
): { readonly done: Promise<ChildExit<L>>; readonly kill: () => void } {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  runningChildren.add(child);
  const lines: L[] = [];
  let buffer = "";
  let stderr = "";
  let killed = false;
  const kill = (): void => {
    if (!killed) {
      killed = true;
      child.kill("SIGKILL");
    }
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as L;
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      if (!killed && onLine(line)) kill();
    }
  });
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<ChildExit<L>>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      runningChildren.delete(child);
      resolve({ lines, code, signal, stderr });
    });
  });
  return { done, kill };
}
