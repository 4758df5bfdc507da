/**
 * The handler-thread cap a placement gives a runtime whose CPU it limits to the entry's
 * `runtime.cpu`. Inside a container, `availableParallelism()` sees the host's CPUs, not the
 * container's quota: on a 64-core host a runtime limited to 1 CPU would start up to 64 handler
 * threads (each an isolate of its own, against the entry's memory limit) to share one CPU. Its own
 * module, with no imports, so the placements' start paths can read it without loading the runtime.
 */
export const HANDLER_THREADS_VARIABLE = 'PROCCTL_RUNTIME_HANDLER_THREADS';

/** `{ PROCCTL_RUNTIME_HANDLER_THREADS: ceil(cpu) }`, or nothing when the entry sets no CPU limit. */
export function handlerThreadsFor(cpu: number | undefined): Record<string, string> {
  return cpu === undefined ? {} : { [HANDLER_THREADS_VARIABLE]: String(Math.max(1, Math.ceil(cpu))) };
}
