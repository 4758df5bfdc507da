/**
 * `procctl runs list | show | cat | logs | rm | gc`: stored executions, over any store
 * (`--artifacts DIR|s3://…`, else PROCCTL_ARTIFACTS, else .procctl/artifacts). The work is in
 * src/runs; this file parses flags and prints.
 */
import { Option, type Command } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ProcctlError } from '../contracts/errors.js';
import type { RunCatalog, RunFilter } from '../runs/catalog.js';
import type { RunStatus } from '../runs/layout.js';
import type { StoredEvent } from '../runs/recorder.js';
import { formatBytes, formatTable, shortHash } from './print.js';

const FOLLOW_POLL_MS = 250;

async function catalogFor(artifacts: string | undefined): Promise<RunCatalog> {
  const [{ artifactsLocation, openStore }, { RunCatalog }] = await Promise.all([import('../api/store-from-location.js'), import('../runs/catalog.js')]);
  const store = await openStore(artifactsLocation(artifacts));
  return new RunCatalog(store);
}

const artifactsOption = () => new Option('--artifacts <location>', 'artifact store: a directory or s3://bucket/prefix (env PROCCTL_ARTIFACTS)');

interface ListFlags {
  artifacts?: string;
  ref?: string;
  status?: RunStatus;
  mode?: string;
  errorCode?: string;
  since?: string;
  until?: string;
  limit: string;
  json?: boolean;
  reindex?: boolean;
}

export async function filterFrom(flags: Omit<ListFlags, 'artifacts' | 'json' | 'reindex'>): Promise<RunFilter> {
  const { parseTime } = await import('../runs/times.js');
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new ProcctlError('ERR_USAGE', `--limit ${flags.limit} is not a whole number (0 means all)`);
  return {
    ...(flags.ref !== undefined && { ref: flags.ref }),
    ...(flags.status !== undefined && { status: flags.status }),
    ...(flags.mode !== undefined && { mode: flags.mode }),
    ...(flags.errorCode !== undefined && { errorCode: flags.errorCode }),
    ...(flags.since !== undefined && { since: parseTime('--since', flags.since) }),
    ...(flags.until !== undefined && { until: parseTime('--until', flags.until) }),
    ...(limit > 0 && { limit }),
  };
}

/** Events as a reader wants them: tokens joined inline, logs and progress as lines. */
function eventText(event: StoredEvent, midLine: boolean): { text: string; midLine: boolean } {
  if (event.kind === 'token') return { text: String(event['text'] ?? ''), midLine: true };
  const lead = midLine ? '\n' : '';
  if (event.kind === 'log') return { text: `${lead}[${String(event['level'])}] ${String(event['message'])}\n`, midLine: false };
  if (event.kind === 'progress') return { text: `${lead}[progress] ${Math.round(Number(event['fraction']) * 100)}%${event['message'] ? ` ${String(event['message'])}` : ''}\n`, midLine: false };
  return { text: `${lead}[${event.kind}] ${String(event['message'] ?? '')}\n`, midLine: false };
}

export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('stored executions: list, show, print outputs and logs, remove, collect garbage');

  runs
    .command('list')
    .description('stored executions, newest first')
    .addOption(artifactsOption())
    .option('--ref <ref>', 'only this processor (ns/name@N, or ns/name for every version)')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'success', 'error']))
    .addOption(new Option('--mode <mode>', 'only this mode').choices(['mock', 'real']))
    .option('--error-code <code>', 'only runs that failed with this code (ERR_…)')
    .option('--since <time>', 'started at or after: an ISO date or an age (30m, 2h, 7d)')
    .option('--until <time>', 'started before: an ISO date or an age')
    .option('--limit <n>', 'at most N rows; 0 for all', '100')
    .option('--reindex', 'rebuild the index from the stored records first (runs written elsewhere)')
    .option('--json', 'one JSON object per line')
    .action(async (flags: ListFlags) => {
      const catalog = await catalogFor(flags.artifacts);
      if (flags.reindex) await catalog.reindex();
      const rows = await catalog.list(await filterFrom(flags));
      if (flags.json) {
        process.stdout.write(rows.map((row) => `${canonicalJson(row)}\n`).join(''));
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no runs\n');
        return;
      }
      process.stdout.write(formatTable([['EXECUTION', 'STARTED', 'STATUS', 'MODE', 'REF', 'ERROR'], ...rows.map((r) => [r.execution_id, r.started_at, r.status, r.mode, r.ref, r.error_code ?? ''])]));
    });

  runs
    .command('show')
    .description('one execution: envelope, receipt, inputs hash, outputs')
    .argument('<id>', 'execution id')
    .addOption(artifactsOption())
    .option('--json', 'the records as one JSON object')
    .action(async (id: string, flags: { artifacts?: string; json?: boolean }) => {
      const detail = await (await catalogFor(flags.artifacts)).show(id);
      if (flags.json) {
        process.stdout.write(`${canonicalJson(detail)}\n`);
        return;
      }
      const { summary, envelope, receipt } = detail;
      const lines = [`execution ${summary.execution_id}`, `  ref       ${summary.ref}`, `  mode      ${summary.mode}`, `  status    ${summary.status}${envelope?.status === 'error' ? ` ${envelope.error.code}: ${envelope.error.message}` : ''}`, `  prefix    ${detail.prefix}`];
      if (receipt) lines.push(`  started   ${String(receipt['started_at'])}`, `  duration  ${String(receipt['duration_ms'])} ms (${String(receipt['adapter'])})`);
      if (envelope) lines.push(`  inputs    ${envelope.meta.inputs_hash ?? '-'}`, `  image     ${envelope.meta.image_digest ?? '-'}`);
      const base = `${detail.prefix}outputs/`;
      for (const o of detail.outputs) lines.push(`  output    ${o.path.startsWith(base) ? o.path.slice(base.length) : o.path}  ${o.mime}  ${formatBytes(o.size_bytes)}  ${shortHash(o.cid)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  runs
    .command('cat')
    .description("an output's bytes to stdout, checked against its content id")
    .argument('<id>', 'execution id')
    .argument('<path>', 'output path (as in the envelope, or relative to the run\'s outputs/)')
    .addOption(artifactsOption())
    .action(async (id: string, path: string, flags: { artifacts?: string }) => {
      const { bytes } = await (await catalogFor(flags.artifacts)).output(id, path);
      process.stdout.write(bytes);
    });

  runs
    .command('logs')
    .description("an execution's stored events (logs, tokens, progress)")
    .argument('<id>', 'execution id')
    .addOption(artifactsOption())
    .option('-f, --follow', 'keep printing while the run is still going (ends when it ends, or when its process is gone)')
    .option('--json', 'the stored event lines as they are')
    .action(async (id: string, flags: { artifacts?: string; follow?: boolean; json?: boolean }) => {
      const catalog = await catalogFor(flags.artifacts);
      const { prefix } = await catalog.locate(id);
      let printed = 0;
      let midLine = false;
      for (;;) {
        const { events, done } = await catalog.eventsAt(prefix);
        for (const event of events.slice(printed)) {
          if (flags.json) process.stdout.write(`${canonicalJson(event)}\n`);
          else {
            const shown = eventText(event, midLine);
            midLine = shown.midLine;
            process.stdout.write(shown.text);
          }
        }
        printed = Math.max(printed, events.length);
        if (done || !flags.follow) break;
        if (!(await catalog.alive(prefix))) {
          if (midLine) process.stdout.write('\n');
          process.stderr.write(`execution ${id} has no envelope and no heartbeat for a minute: its process is gone (killed or crashed); stopped following\n`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      }
      if (midLine) process.stdout.write('\n');
    });

  runs
    .command('rm')
    .description('remove executions: their records, outputs and index entries')
    .argument('<ids...>', 'execution ids')
    .addOption(artifactsOption())
    .option('--dry-run', 'say what would go, remove nothing')
    .option('--json', 'one JSON object per removed run')
    .action(async (ids: string[], flags: { artifacts?: string; dryRun?: boolean; json?: boolean }) => {
      const catalog = await catalogFor(flags.artifacts);
      const { removeRuns } = await import('../runs/removal.js');
      // Every id is found before anything is removed: a typo removes nothing.
      for (const id of ids) await catalog.locate(id);
      const removed = await removeRuns(catalog, ids, { dryRun: flags.dryRun ?? false });
      for (const r of removed) process.stdout.write(flags.json ? `${canonicalJson(r)}\n` : `${flags.dryRun ? 'would remove' : 'removed'} ${r.execution_id} (${r.keys} objects under ${r.prefix})\n`);
    });

  runs
    .command('gc')
    .description('remove old executions, then attachment bytes no remaining run refers to')
    .addOption(artifactsOption())
    .option('--older-than <age>', 'remove finished executions started longer ago than this (30m, 2h, 7d)')
    .option('--dry-run', 'say what would go, remove nothing')
    .option('--json', 'the report as JSON')
    .action(async (flags: { artifacts?: string; olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      const { parseAge } = await import('../runs/times.js');
      const olderThan = flags.olderThan === undefined ? undefined : new Date(Date.now() - parseAge('--older-than', flags.olderThan));
      const catalog = await catalogFor(flags.artifacts);
      const { collectGarbage } = await import('../runs/removal.js');
      const report = await collectGarbage(catalog, { dryRun: flags.dryRun ?? false, ...(olderThan && { olderThan }) });
      if (flags.json) {
        process.stdout.write(`${canonicalJson(report)}\n`);
        return;
      }
      const verb = report.dry_run ? 'would remove' : 'removed';
      process.stdout.write(`${verb} ${report.runs_removed.length} execution(s) and ${report.attachments_removed.length} attachment(s); ${report.attachments_kept} attachment(s) still referenced\n`);
      if (report.attachments_held_by) process.stdout.write(`attachments kept: ${report.attachments_held_by}\n`);
    });
}
