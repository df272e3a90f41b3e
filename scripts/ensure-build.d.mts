/** Types of `ensure-build.mjs`. */
/** The repository root. */
export declare const ROOT: string;
/** The built CLI, `dist/src/service/cli.js`. */
export declare const BUILT_CLI: string;
/** Whether `dist/` is missing or older than the sources. */
export declare function isBuildStale(root?: string): boolean;
/** Builds with `tsc -p tsconfig.build.json` when stale. */
export declare function ensureBuild(options?: {
  readonly root?: string;
  readonly log?: (line: string) => void;
  readonly allowTypeErrors?: boolean;
}): { readonly built: boolean; readonly ok: boolean; readonly output: string };
