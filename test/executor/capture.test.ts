// Bounded capture: each stream capped at capture_limit_bytes, cut on a UTF-8 boundary, with a
// warning saying how much was dropped; the child is never blocked; memory stays bounded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { utf8SafeLength } from '../../src/executor/utf8.js';
import { payload, runPayload } from './helpers.js';

describe('utf8SafeLength', () => {
  const cut = (s: string, limit: number): string => {
    const buf = Buffer.from(s).subarray(0, limit);
    return buf.subarray(0, utf8SafeLength(buf)).toString('utf8');
  };
  it('never splits 2-, 3- or 4-byte characters', () => {
    assert.equal(cut('aé', 2), 'a');
    assert.equal(cut('aé', 3), 'aé');
    assert.equal(cut('a€', 2), 'a');
    assert.equal(cut('a€', 3), 'a');
    assert.equal(cut('a€', 4), 'a€');
    assert.equal(cut('a😀', 4), 'a');
    assert.equal(cut('a😀', 5), 'a😀');
    assert.equal(cut('abc', 2), 'ab');
  });
  it('leaves bytes that are not UTF-8 alone', () => {
    const bin = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]);
    assert.equal(utf8SafeLength(bin), 5);
    assert.equal(utf8SafeLength(Buffer.alloc(0)), 0);
  });
});

describe('bounded capture (real bin)', () => {
  it('truncates stdout at the limit on a character boundary and says how much was dropped', async () => {
    // 9 ASCII bytes then "é" (2 bytes) straddling the 10-byte limit, then more.
    const run = await runPayload(payload({ shell_command: "printf 'aaaaaaaaaéxyz'", capture_limit_bytes: 10 }));
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stdout, 'aaaaaaaaa');
    assert.equal(run.result.metrics?.stdout_bytes, 14);
    assert.equal(run.result.metrics?.stdout_captured_bytes, 9);
    const warning = run.result.warnings?.find((w) => w.startsWith('stdout truncated'));
    assert.ok(warning, JSON.stringify(run.result.warnings));
    assert.match(warning, /kept 9 of 14 bytes/);
    assert.match(warning, /dropped 5 bytes/);
  });

  it('cuts 3- and 4-byte characters whole', async () => {
    const euro = await runPayload(payload({ shell_command: "printf 'ab€€'", capture_limit_bytes: 4 }));
    assert.equal(euro.result.stdout, 'ab');
    const emoji = await runPayload(payload({ shell_command: "printf 'a😀b'", capture_limit_bytes: 4 }));
    assert.equal(emoji.result.stdout, 'a');
  });

  it('caps stderr independently of stdout', async () => {
    const run = await runPayload(
      payload({ shell_command: 'head -c 100 /dev/zero | tr "\\0" o; head -c 50 /dev/zero | tr "\\0" e >&2', capture_limit_bytes: 20 }),
    );
    assert.equal(run.result.stdout, 'o'.repeat(20));
    assert.equal(run.result.stderr, 'e'.repeat(20));
    assert.ok(run.result.warnings?.some((w) => w.startsWith('stderr truncated') && w.includes('dropped 30 bytes')));
  });

  it('captures nothing with capture_limit_bytes 0 but still counts', async () => {
    const run = await runPayload(payload({ shell_command: 'echo hello', capture_limit_bytes: 0 }));
    assert.equal(run.result.stdout, '');
    assert.equal(run.result.metrics?.stdout_bytes, 6);
  });

  it('has no truncation warning when output fits', async () => {
    const run = await runPayload(payload({ shell_command: 'echo fits', capture_limit_bytes: 100 }));
    assert.equal(run.result.warnings, undefined);
  });

  it('warns when output is not valid UTF-8', async () => {
    const run = await runPayload(payload({ shell_command: "printf 'ok\\377\\376'" }));
    assert.ok(run.result.stdout.startsWith('ok'));
    assert.ok(run.result.warnings?.some((w) => w.includes('not valid UTF-8')));
  });

  it('keeps draining past the limit so the child is never blocked', async () => {
    // 32 MiB is far beyond any pipe buffer: had we stopped reading, the child would never reach
    // its last line.
    const run = await runPayload(
      payload({ shell_command: 'head -c 33554432 /dev/zero; echo reached-the-end >&2', capture_limit_bytes: 1024 }),
    );
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stderr, 'reached-the-end\n');
    assert.equal(run.result.metrics?.stdout_bytes, 33554432);
    assert.equal(run.result.metrics?.stdout_captured_bytes, 1024);
  });

  it('stays under 150 MB peak RSS while the child prints 1 GiB', { timeout: 300_000 }, async () => {
    const GiB = 1024 ** 3;
    let peakKb = 0;
    let poll: NodeJS.Timeout | undefined;
    const running = runPayload(payload({ shell_command: `head -c ${GiB} /dev/zero`, emit_start_markers: false }), {
      onSpawn: (child) => {
        // VmHWM is the kernel's own high-water mark of the executor's resident set.
        poll = setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKb = Math.max(peakKb, Number(m[1]));
          } catch {
            // exited between polls
          }
        }, 20);
      },
    });
    const run = await running.finally(() => clearInterval(poll));
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.metrics?.stdout_bytes, GiB);
    assert.equal(run.result.metrics?.stdout_captured_bytes, 1_000_000);
    assert.ok(peakKb > 0, 'VmHWM was sampled');
    assert.ok(peakKb * 1024 < 150 * 1024 * 1024, `executor VmHWM ${peakKb} kB`);
    const selfReported = run.result.metrics?.executor_max_rss_bytes ?? Infinity;
    assert.ok(selfReported < 150 * 1024 * 1024, `executor maxRSS ${selfReported} bytes`);
  });
});
