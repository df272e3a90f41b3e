/**
 * Builds the browser UI (`src/ui/`) into `dist/ui/`: `index.html` plus hashed assets, served by
 * `cancelkit serve` (`src/service/ui-assets.ts`). Run by `npm run build`.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL("./src/ui/", import.meta.url)),
  // Relative URLs: the UI works under any path prefix a proxy gives it.
  base: "./",
  publicDir: false,
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("./dist/ui/", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The CSP allows no inline script: no module-preload polyfill snippet.
    modulePreload: { polyfill: false },
    // Keep every asset a file (never a data: URL inlined into the CSS or script).
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
