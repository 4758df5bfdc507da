/**
 * The network mock containers live on. It is `internal` — no route to the outside world, no DNS —
 * and on Linux, where the host itself would still be reachable through the bridge, a firewall rule
 * drops new connections from the bridge to the host. Mock runs are hermetic by construction, not
 * by promise: even a handler that tried could not reach a server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describeEngineError, engine, statusOf } from './engine.js';
import { inspectNetwork } from './engine-api.js';
import { ProcctlError } from '../contracts/errors.js';

export const MOCK_NETWORK = 'procctl-mock';
export const MOCK_BRIDGE = 'procctl-mock0';
const HOST_GUARD = ['INPUT', '-i', MOCK_BRIDGE, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP'];

/** The mock network exists (created on first use). The host guard is separate: see guardHost. */
export async function ensureMockNetwork(): Promise<void> {
  try {
    await inspectNetwork(MOCK_NETWORK);
  } catch (err) {
    if (statusOf(err) !== 404) throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot inspect network ${MOCK_NETWORK}: ${describeEngineError(err)}`);
    try {
      await engine().createNetwork({ Name: MOCK_NETWORK, Internal: true, Driver: 'bridge', Options: { 'com.docker.network.bridge.name': MOCK_BRIDGE }, Labels: { 'procctl.managed': '1' } });
    } catch (createErr) {
      // Two shells starting at once: the other one created it first.
      if (statusOf(createErr) !== 409) throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot create network ${MOCK_NETWORK}: ${describeEngineError(createErr)}`);
    }
  }
}

/**
 * Adds the host guard rule once; without iptables rights the network still has no way out. It
 * names the bridge, not the network, so it may go in before the network exists — it only has to be
 * in place before a mock container starts.
 */
export async function guardHost(warn: (message: string) => void): Promise<void> {
  if (process.platform !== 'linux') return; // Docker Desktop's VM keeps containers off the host's own services
  const iptables = promisify(execFile);
  try {
    await iptables('iptables', ['-C', ...HOST_GUARD]);
    return;
  } catch {
    // not there yet (or no iptables): add it below
  }
  try {
    await iptables('iptables', ['-I', ...HOST_GUARD]);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    warn(`could not add the firewall rule that keeps mock containers off host services (iptables ${missing ? 'not found' : 'refused'}); mock containers still have no route out`);
  }
}
