// SIGTERM / SIGINT / SIGHUP cancel the current run instead of killing the process outright, so its
// work is stopped, what it started is cleaned up (a process group, a one-off container) and a
// `cancelled` result is still printed.
export function installCancelSignals(controller: AbortController): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  const onSignal = (): void => controller.abort();
  for (const sig of signals) process.on(sig, onSignal);
  return () => {
    for (const sig of signals) process.off(sig, onSignal);
  };
}
