#!/usr/bin/env node
/**
 * The package page's README: npm renders the packed `README.md`, and resolves a relative link
 * (`[results](bench/RESULTS.md)`) against the package page, where it is a dead link, unless
 * `package.json` names a GitHub `repository`. So `npm pack` / `npm publish` ship a README whose
 * relative links point at the same file inside the published version on unpkg
 * (`https://unpkg.com/cancelkit@<version>/bench/RESULTS.md`), and the repository keeps the
 * relative links that work on GitHub and in an editor.
 *
 * Usage: `node scripts/pack-readme.mjs rewrite` (`prepack`: backs `README.md` up to
 * `.tmp/README.pack-backup.md` and rewrites it) and `node scripts/pack-readme.mjs restore`
 * (`postpack`, and the next `rewrite` when a pack died in between). A relative link to a file
 * that does not exist, or that `files` in `package.json` does not ship, fails the pack.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const README = join(ROOT, "README.md");
const BACKUP = join(ROOT, ".tmp", "README.pack-backup.md");

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
const INLINE_LINK = /(!?\[[^\]]*\]\()(<[^>]*>|[^)\s]+)([^)]*\))/g;
const REFERENCE_DEFINITION = /^( {0,3}\[[^\]]+\]:[ \t]*)(<[^>]*>|\S+)/gm;

/** Whether a link target leaves the file system: a scheme (`https:`, `mailto:`) or an in-page anchor. */
export function isRelativeTarget(target) {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("#") && !target.startsWith("//");
}

/** The relative link targets of a Markdown text, outside fenced code blocks. */
export function relativeTargets(markdown) {
  const out = [];
  forEachTarget(markdown, (target) => {
    if (isRelativeTarget(target)) out.push(target);
    return target;
  });
  return out;
}

/** Replaces every link target outside fenced code blocks by `replace(target)`. */
function forEachTarget(markdown, replace) {
  const parts = markdown.split(/(^```[^\n]*\n[\s\S]*?^```[^\n]*$)/m);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part;
      const unwrap = (target) => (target.startsWith("<") ? target.slice(1, -1) : target);
      return part
        .replace(INLINE_LINK, (_, open, target, close) => `${open}${replace(unwrap(target))}${close}`)
        .replace(REFERENCE_DEFINITION, (_, open, target) => `${open}${replace(unwrap(target))}`);
    })
    .join("");
}

/** Whether `path` (relative to the package root) is shipped by the `files` list of `package.json`. */
export function isShipped(path, files) {
  const clean = normalize(path).replace(/\\/g, "/").replace(/\/$/, "");
  return files.some((entry) => {
    const prefix = normalize(entry).replace(/\\/g, "/").replace(/\/$/, "");
    return clean === prefix || clean.startsWith(`${prefix}/`);
  });
}

/**
 * The README with every relative link pointing at the file in the published version on unpkg.
 *
 * @throws Error naming the links to files that are missing or not shipped.
 */
export function rewriteReadme(markdown, pkg, root = ROOT) {
  const problems = [];
  const text = forEachTarget(markdown, (target) => {
    if (!isRelativeTarget(target)) return target;
    const [path = "", fragment] = target.split("#", 2);
    const file = decodeURI(path.replace(/^\.\//, ""));
    if (!existsSync(join(root, file))) problems.push(`${target}: no such file`);
    else if (!isShipped(file, pkg.files ?? [])) problems.push(`${target}: not in the package ("files" of package.json)`);
    return `https://unpkg.com/${pkg.name}@${pkg.version}/${path.replace(/^\.\//, "")}${fragment === undefined ? "" : `#${fragment}`}`;
  });
  if (problems.length > 0) throw new Error(`README.md links that would be dead on the package page:\n  ${problems.join("\n  ")}`);
  return text;
}

function restore() {
  if (!existsSync(BACKUP)) return;
  copyFileSync(BACKUP, README);
  rmSync(BACKUP);
}

function rewrite() {
  restore();
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const original = readFileSync(README, "utf8");
  const rewritten = rewriteReadme(original, pkg);
  if (rewritten === original) return;
  mkdirSync(dirname(BACKUP), { recursive: true });
  copyFileSync(README, BACKUP);
  writeFileSync(README, rewritten);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const command = process.argv[2];
  try {
    if (command === "rewrite") rewrite();
    else if (command === "restore") restore();
    else {
      process.stderr.write("usage: node scripts/pack-readme.mjs rewrite|restore\n");
      process.exitCode = 2;
    }
  } catch (error) {
    process.stderr.write(`cancelkit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
