/**
 * The browser UI's files: the built `index.html` and its hashed assets (`npm run build` writes
 * them to `dist/ui/`), read once into memory, gzip-compressed once, and answered with strict
 * security headers. The UI talks only to the `/v1` API with the Bearer key; it needs no cookie,
 * no inline script, no outside host.
 *
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * The UI's Content-Security-Policy: scripts, styles, images and fetches from this origin only; no
 * inline script or style element, no plugin, no framing, no `<base>` rewriting.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every UI response. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": UI_CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
});

/** `Cache-Control` of hashed assets: their name changes with their content. */
export const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";
/** `Cache-Control` of `index.html`: revalidated on every load, so a new build is picked up at once. */
export const INDEX_CACHE = "no-cache";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** One file ready to answer. */
export interface UiFile {
  readonly body: Buffer;
  /** The gzip-compressed body, when it is smaller. */
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly cacheControl: string;
}

/** The UI's files by URL path (`/`, `/assets/index-3f2a1c.js`). */
export interface UiBundle {
  readonly root: string;
  readonly files: ReadonlyMap<string, UiFile>;
}

/**
 * Where the built UI lies: `dist/ui/` beside the built service (`dist/src/service/` → `dist/ui/`),
 * or, when the service runs from its TypeScript sources, the repository's `dist/ui/`.
 */
export function defaultUiRoot(): string | undefined {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const candidates = [join(here, "..", "..", "ui"), join(here, "..", "..", "dist", "ui")];
  return candidates.find((dir) => existsSync(join(dir, "index.html")) && existsSync(join(dir, "assets")));
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/**
 * Reads a built UI folder into memory. `index.html` is answered at `/`; files under `assets/`
 * (hashed names) with a year's immutable caching; other files (Vite's manifest) are not served.
 *
 * @returns `undefined` when the folder holds no `index.html`.
 */
export function loadUiBundle(root: string): UiBundle | undefined {
  if (!existsSync(join(root, "index.html"))) return undefined;
  const files = new Map<string, UiFile>();
  const add = (urlPath: string, path: string, cacheControl: string): void => {
    const body = readFileSync(path);
    const type = TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
    const compressible = type.startsWith("text/") || type.includes("json") || type.includes("svg");
    const gzipped = compressible ? gzipSync(body, { level: 9 }) : undefined;
    files.set(urlPath, { body, gzip: gzipped !== undefined && gzipped.length < body.length ? gzipped : undefined, type, cacheControl });
  };
  add("/", join(root, "index.html"), INDEX_CACHE);
  const assets = join(root, "assets");
  if (existsSync(assets)) {
    for (const path of listFiles(assets)) {
      add(`/assets/${relative(assets, path).split(sep).join("/")}`, path, IMMUTABLE_CACHE);
    }
  }
  return { root, files };
}

/** Whether an `Accept-Encoding` header value accepts gzip. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (name !== "gzip" && name !== "*") return false;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The transferred size of a first load: `index.html` and every asset it links, gzip-compressed where served so. */
export function firstLoadBytes(bundle: UiBundle): { readonly raw: number; readonly gzip: number; readonly files: readonly string[] } {
  const index = bundle.files.get("/")!;
  const html = index.body.toString("utf8");
  const linked = [...html.matchAll(/(?:src|href)="\.?(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
  const paths = ["/", ...new Set(linked)];
  let raw = 0;
  let gzip = 0;
  for (const path of paths) {
    const file = bundle.files.get(path);
    if (file === undefined) continue;
    raw += file.body.length;
    gzip += (file.gzip ?? file.body).length;
  }
  return { raw, gzip, files: paths };
}
