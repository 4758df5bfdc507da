/** `procctl ui` test support: its deployments report from a child process, and CLIs on a pseudo-terminal. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import type { PlacementStatusReport } from '../../src/ui/deployments.js';
import { tempDir } from './cli.js';
import { PROCCTL_BIN } from './paths.js';

const children: ChildProcess[] = [];

/**
 * A CLI run on a real pseudo-terminal (util-linux `script`), so its stderr is a TTY: what a user at
 * a terminal sees, live line included. Returns the terminal's text and the exit code.
 */
export function onTerminal(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; text: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  // A pseudo-terminal without a window has 0 columns; give it a usual width.
  const command = `stty cols 200 rows 50; exec ${[process.execPath, bin, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
}

export const LIVE = `\r${String.fromCharCode(27)}[2K`;

/** Starts `procctl ui --port 0 …` and returns its deployments report, read with the printed token. */
export async function deploymentsOf(args: string[], env: NodeJS.ProcessEnv): Promise<{ reports: PlacementStatusReport[]; body: string }> {
  const ui = spawn(process.execPath, [PROCCTL_BIN, 'ui', '--port', '0', '--artifacts', tempDir('procctl-ui-pl-'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(ui);
  const address = await new Promise<URL>((resolve, reject) => {
    let out = '';
    let err = '';
    const limit = setTimeout(() => reject(new Error(`procctl ui printed no address: ${out}${err}`)), 20_000);
    ui.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    ui.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
      if (found) {
        clearTimeout(limit);
        resolve(new URL(found[0]));
      }
    });
    ui.once('exit', (code) => reject(new Error(`procctl ui exited ${code}: ${err}`)));
  });
  try {
    const res = await fetch(`${address.origin}/api/deployments`, { headers: { authorization: `Bearer ${address.searchParams.get('token')}` } });
    assert.equal(res.status, 200);
    const body = await res.text();
    return { reports: JSON.parse(body) as PlacementStatusReport[], body };
  } finally {
    ui.kill('SIGTERM');
  }
}

export const placement = (reports: PlacementStatusReport[], name: string) => {
  const found = reports.filter((r) => r.placement === name);
  assert.equal(found.length, 1, `one ${name} report in ${JSON.stringify(reports)}`);
  return found[0] as PlacementStatusReport;
};

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

