// Kubernetes dispatch arrives with the Kubernetes issue. Until then the provider answers with a
// clear infra_error instead of pretending, so callers can branch on it today.
import { ERROR_CODES, type ExecutionResult } from '../contract.js';
import { ExecutorInfraError } from '../errors.js';
import { resultFromError, type ResultContext } from '../result.js';

export function dispatchToKubernetes(ctx: ResultContext): Promise<ExecutionResult> {
  return Promise.resolve(
    resultFromError(
      new ExecutorInfraError(
        ERROR_CODES.provider_unavailable,
        'the kubernetes provider is not available yet: Kubernetes dispatch ships with the Kubernetes issue; use --provider docker or workspace',
        { provider: 'kubernetes' },
      ),
      new Date(),
      ctx,
    ),
  );
}
