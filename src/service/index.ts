/**
 * `cancelkit/service`: the HTTP service (Inngest's `/v1/cancellations` over a run store), its
 * signing keys, background jobs and store selection, the synthetic-run generator and the demo
 * data set. The `cancelkit` binary is `cli.ts`.
 *
 * @module
 */
export {
  createServer,
  parseUlid,
  DEFAULT_BODY_LIMIT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from "./server.js";
export type { ServerOptions, CancelkitServer } from "./server.js";
export { parseCheckBody, MAX_CHECK_RUNS } from "./check-route.js";
export type { WireCheck } from "./check-route.js";
export {
  SigningKeys,
  SigningKeyError,
  loadSigningKeys,
  generateDevKey,
  SIGNING_KEYS_ENV,
  DEV_ENVIRONMENT_ID,
  MAX_SIGNING_KEY_LENGTH,
} from "./auth.js";
export type { AuthResult, LoadSigningKeysOptions, LoadedSigningKeys } from "./auth.js";
export { JobRunner } from "./jobs.js";
export { EvaluatorPool, sharedEvaluatorPool } from "./eval-pool.js";
export type { EvaluatorPoolOptions } from "./eval-pool.js";
export type { JobEvent, JobListener, JobOutcome, JobRunnerOptions } from "./jobs.js";
export { openStore, redactUrl, checkPostgresUrl, StoreLocationError, DEFAULT_SQLITE_PATH } from "./store.js";
export type { OpenedStore, StoreSelection } from "./store.js";
export { generateRuns, writeRunFile, seededRandom, ulidAt, GENERATED_FUNCTIONS, EXAMPLE_USER_ID } from "./generate.js";
export type { GenerateOptions, GeneratedFunction, PayloadContext, Random } from "./generate.js";
export {
  loadDemoData,
  demoRequestBody,
  demoUiLink,
  demoInstructions,
  previewDemoRequest,
  DEMO_APP_ID,
  DEMO_FUNCTION_ID,
  DEMO_EXPRESSION,
  DEMO_RUN_COUNT,
  DEMO_OTHER_RUN_COUNT,
  DEMO_DAYS,
  DEMO_WINDOW_HOURS,
} from "./demo.js";
export type { DemoOptions, DemoLoad, DemoInstructionsOptions } from "./demo.js";
export { checkExpression, CHECK_DIALECTS } from "./expressions.js";
export type { ExpressionCheck, WireIssue } from "./expressions.js";
export { toWireFunctionSummary } from "./functions.js";
export type { WireFunctionSummary } from "./functions.js";
export { previewDryRun, streamPreview, sampleRuns } from "./preview.js";
export type { DryRunOptions, DryRunProgress, DryRunResult, WireSampleRun, LineSink, StreamPreviewOptions } from "./preview.js";
export { UI_CONTENT_SECURITY_POLICY, UI_SECURITY_HEADERS, IMMUTABLE_CACHE, INDEX_CACHE, defaultUiRoot, loadUiBundle, firstLoadBytes, acceptsGzip } from "./ui-assets.js";
export type { UiBundle, UiFile } from "./ui-assets.js";
export { ProgressReporter, formatProgressLine, formatProgressBar, fitProgressBar, formatCount, formatDuration, fractionDone } from "./progress.js";
export type { ProgressFormat, ProgressReporterOptions, ProgressStream } from "./progress.js";
