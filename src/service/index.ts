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
export type { JobEvent, JobListener, JobOutcome, JobRunnerOptions } from "./jobs.js";
export { openStore, redactUrl, checkPostgresUrl, StoreLocationError, DEFAULT_SQLITE_PATH } from "./store.js";
export type { OpenedStore, StoreSelection } from "./store.js";
export { generateRuns, writeRunFile, seededRandom, ulidAt, GENERATED_FUNCTIONS, EXAMPLE_USER_ID } from "./generate.js";
export type { GenerateOptions, GeneratedFunction, PayloadContext, Random } from "./generate.js";
export {
  loadDemoData,
  demoRequestBody,
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
export { ProgressReporter, formatProgressLine, formatProgressBar, fitProgressBar, formatCount, formatDuration, fractionDone } from "./progress.js";
export type { ProgressFormat, ProgressReporterOptions, ProgressStream } from "./progress.js";
