// Public API of the executor library: run a payload here (llmctl-executor), or dispatch it to a
// provider (procctl exec). See docs/executor.md.
export * from './contract.js';
export { ExecutorError, ExecutorInfraError, PayloadSourceError, PayloadValidationError, type PayloadIssue } from './errors.js';
export { validatePayload, parsePayload, type ValidatedPayload } from './validate.js';
export { readPayloadText, type PayloadSourceOptions, type PayloadText, type StdinLike } from './input.js';
export { runCommand, type RunOutcome, type RunSpec } from './runner.js';
export { BoundedCapture, type CapturedText } from './capture.js';
export { utf8SafeLength } from './utf8.js';
export { resultLine, startMarkerLines, writeResultFile } from './output.js';
export { exitCodeFor } from './result.js';
export { readConfig, type ExecutorConfig } from './config.js';
export { executePayload, runExecutor, runWithPayload, type ExecutorOptions, type ExecutorRun } from './execute.js';
export { installCancelSignals } from './cancel-signals.js';
export {
  DEFAULT_EXECUTOR_IMAGE,
  DOCKER_API_VERSION,
  ExecutorOutputParser,
  dispatchExecutor,
  dispatchToDocker,
  parseResultJson,
  type DispatchOptions,
  type DockerDispatchOptions,
} from './dispatch/index.js';
