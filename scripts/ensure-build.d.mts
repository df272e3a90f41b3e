/** Types of `ensure-build.mjs`. */
/** The repository root. */
export declare const ROOT: string;
/** The built CLI, `dist/src/service/cli.js`. */
export declare const BUILT_CLI: string;
/** The built UI's page, `dist/ui/index.html`. */
export declare const BUILT_UI_INDEX: string;
/** Whether `dist/` (the service or the UI) is missing or older than the sources. */
export declare function isBuildStale(root?: string): boolean;
/** Whether `dist/src/` is missing or older than the service's sources. */
export declare function isServiceBuildStale(root?: string): boolean;
/** Whether `dist/ui/` is missing or older than the UI's sources. */
export declare function isUiBuildStale(root?: string): boolean;
/** Builds the UI with Vite into `outDir` (default `dist/ui/`). */
export declare function buildUi(options?: { readonly root?: string; readonly outDir?: string }): { readonly ok: boolean; readonly output: string };
/** Builds with `tsc -p tsconfig.build.json` and the UI with Vite, each when stale. */
export declare function ensureBuild(options?: {
  readonly root?: string;
  readonly log?: (line: string) => void;
  readonly allowTypeErrors?: boolean;
}): { readonly built: boolean; readonly ok: boolean; readonly output: string };
