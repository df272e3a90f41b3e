/** Types of `pack-readme.mjs`. */
/** Whether a link target is relative (no scheme, not an in-page anchor). */
export declare function isRelativeTarget(target: string): boolean;
/** The relative link targets of a Markdown text, outside fenced code blocks. */
export declare function relativeTargets(markdown: string): string[];
/** Whether `path` is shipped by the `files` list of `package.json`. */
export declare function isShipped(path: string, files: readonly string[]): boolean;
/** The README with every relative link pointing at the file in the published version on unpkg. */
export declare function rewriteReadme(markdown: string, pkg: { readonly name: string; readonly version: string; readonly files?: readonly string[] }, root?: string): string;
