/** The work behind `procctl run` / `localctl run`, loaded only when a run is asked for. */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import { parseAttachSpec } from '../artifacts/attachments.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { failureFor } from '../adapters/envelope-for.js';
import type { Adapter } from '../adapters/types.js';
import { run } from '../api/run.js';
import { artifactsLocation, openStore } from '../api/store-from-location.js';
import { Registry } from '../registry/registry.js';
import { installCancelSignals } from '../executor/cancel-signals.js';
import { readInputs } from './read-inputs.js';
import { exitCodeFor, printEnvelope, stderrEventPrinter } from './print.js';
import type { Placement, RunFlags } from './run-command.js';
import { terminalProgress } from './terminal-progress.js';
import type { Progress } from '../docker/images.js';
import type { ProcessorEvent } from '../sdk/index.js';

export async function runAction(flags: RunFlags): Promise<number> {
  const executionId = flags.executionId ?? randomUUID();
  const location = artifactsLocation(flags.artifacts);
  const shown = terminalProgress({ json: flags.json ?? false });
  const events = flags.quiet ? undefined : stderrEventPrinter();
  // The first event wipes a live progress line (pull, start), so tokens do not land on it.
  const printer = events && { onEvent: (event: ProcessorEvent) => (shown.end(), events.onEvent(event)), end: events.end };
  const controller = new AbortController();
  const uninstall = installCancelSignals(controller);
  let envelope: Envelope;
  let adapter: (Adapter & { close?: () => unknown }) | undefined;
  try {
    // Inputs first: refused inputs leave nothing behind, not even an empty store.
    const inputs = await readInputs(flags, process.stdin, undefined, controller.signal);
    // On a terminal, large S3 uploads draw their bytes on the live line; elsewhere one PutObject each, as before.
    const store = await openStore(location, shown.live ? { uploadProgress: shown.progress } : {});
    const registry = Registry.fromOptions(flags.registry);
    adapter = flags.adapter === 'modal' ? await modalAdapter(flags, store) : flags.adapter === 'kubernetes' ? await kubernetesAdapter(flags, store) : await adapterFor(flags.placement ?? 'auto', inputs.mode ?? flags.mode ?? 'mock', store, registry.dir, shown.progress);
    const result = await run({
      ...(adapter && { adapter }),
      ref: flags.ref,
      inputs,
      ...(flags.mode && { mode: flags.mode }),
      attachments: flags.attach.map(parseAttachSpec),
      executionId,
      ...(flags.replace && { replace: true }),
      writePrefix: flags.writePrefix,
      store,
      registry,
      adapterOpts: { signal: controller.signal, ...(printer && { onEvent: printer.onEvent }) },
    });
    envelope = result.envelope;
  } catch (err) {
    envelope = failureFor({ ref: flags.ref, executionId, mode: flags.mode ?? 'mock', secretsPresent: [] }, err);
  } finally {
    uninstall();
    shown.end();
    // Port-forwards (Kubernetes), tunnels (Modal) and pooled connections end with the run.
    await adapter?.close?.();
  }
  printer?.end();
  printEnvelope(envelope, flags.json ?? false, location);
  return exitCodeFor(envelope);
}

/** `--adapter modal`: the started deployment in the Modal environment `--env`. */
async function modalAdapter(flags: RunFlags, store: ArtifactStore): Promise<Adapter> {
  if (!flags.env) throw new ProcctlError('ERR_USAGE', '--adapter modal needs --env ENV (the Modal environment the deployment was started in)');
  const { checkEnvironment } = await import('../modal/names.js');
  const { ModalAdapter } = await import('../adapters/modal/modal-adapter.js');
  return new ModalAdapter({ store, env: checkEnvironment(flags.env) });
}

/** The Kubernetes adapter, loaded (with the Kubernetes client) only for `--adapter kubernetes`. */
async function kubernetesAdapter(flags: RunFlags, store: ArtifactStore): Promise<Adapter> {
  const { KubernetesAdapter } = await import('../adapters/kubernetes/pod-adapter.js');
  return new KubernetesAdapter({ store, context: flags.context, namespace: flags.namespace });
}

/** The placement's adapter; undefined means the library default (in-process). */
async function adapterFor(placement: Placement, mode: Mode, store: ArtifactStore, registryDir: string, progress: Progress): Promise<Adapter | undefined> {
  if (placement === 'in-process' || (placement === 'auto' && mode === 'mock')) return undefined;
  if (placement === 'process') {
    const { ChildProcessAdapter } = await import('../adapters/local/child-process.js');
    return new ChildProcessAdapter({ store, registryDir });
  }
  // Loaded only here: mock runs never pay for the Docker client.
  const { ContainerAdapter } = await import('../adapters/docker/container-adapter.js');
  return new ContainerAdapter({ store, policy: placement === 'container' ? 'started' : 'started-or-ephemeral', progress });
}
