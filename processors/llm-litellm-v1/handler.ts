/**
 * llm/litellm@1. Mock mode answers from the messages alone — the same messages always give the same
 * reply, usage and bytes. Real mode calls an OpenAI-compatible chat completions endpoint.
 */
import { createHash } from 'node:crypto';
import { isArtifactRef, type ArtifactRef } from '../../src/artifacts/attachments.js';
import { canonicalJson } from '../../src/contracts/canonical-json.js';
import { ProcctlError } from '../../src/contracts/errors.js';
import { withoutUserinfo } from '../../src/execution/redact.js';
import { defineProcessor, type ProcessorContext } from '../../src/sdk/index.js';

type Role = 'system' | 'user' | 'assistant' | 'tool';
type Part = string | ArtifactRef | Record<string, unknown>;

export interface ChatParams {
  model?: string;
  messages: { role?: Role; name?: string; content: string | Part[] }[];
  temperature?: number;
  max_tokens?: number;
}

const DEFAULT_MODEL = 'openai/gpt-4o-mini';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** A rough, deterministic token count: words and punctuation runs. Mock usage only. */
function countTokens(text: string): number {
  return text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)?.length ?? 0;
}

function partText(part: Part): string {
  if (typeof part === 'string') return part;
  if (isArtifactRef(part)) return `[${part.mime} attachment, ${part.size_bytes} bytes, ${part.cid}]`;
  if (typeof part['text'] === 'string') return part['text'];
  return '';
}

function messageText(content: string | Part[]): string {
  return typeof content === 'string' ? content : content.map(partText).filter(Boolean).join(' ');
}

function completion(id: string, model: string, content: string, usage: { prompt_tokens: number; completion_tokens: number }) {
  return {
    id,
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

function writeReply(ctx: ProcessorContext<ChatParams>, response: ReturnType<typeof completion>): void {
  ctx.output('response.json', `${canonicalJson(response)}\n`, 'application/json');
  ctx.output('text/response.txt', `${response.choices[0]?.message.content ?? ''}\n`, 'text/plain');
}

async function mock(ctx: ProcessorContext<ChatParams>): Promise<void> {
  const model = ctx.params.model ?? DEFAULT_MODEL;
  const transcript = ctx.params.messages.map((m) => `${m.role ?? 'user'}: ${messageText(m.content)}`);
  const digest = createHash('sha256').update(canonicalJson({ model, messages: ctx.params.messages })).digest('hex');
  const lastUser = [...ctx.params.messages].reverse().find((m) => (m.role ?? 'user') === 'user');
  // Reading every attachment proves the placement resolved it to the right bytes (readAttachment
  // checks the content id), in-process and in a container alike.
  const attachments = [];
  for (const message of ctx.params.messages) {
    for (const part of typeof message.content === 'string' ? [] : message.content) {
      if (isArtifactRef(part)) attachments.push(`${part.mime} ${(await ctx.readAttachment(part)).byteLength} B`);
    }
  }
  const seen = attachments.length ? `, read ${attachments.join(', ')}` : '';
  const words = `Mock reply to "${lastUser ? messageText(lastUser.content) : ''}" (${ctx.params.messages.length} message(s)${seen}, model ${model}, seed ${digest.slice(0, 8)}).`;
  ctx.log(`mock completion for ${ctx.params.messages.length} message(s)`);
  const maxTokens = ctx.params.max_tokens ?? Number.POSITIVE_INFINITY;
  const tokens = words.split(/(?<= )/).slice(0, maxTokens);
  for (const token of tokens) ctx.token(token);
  const content = tokens.join('');
  writeReply(ctx, completion(`chatcmpl-mock-${digest.slice(0, 24)}`, model, content, { prompt_tokens: countTokens(transcript.join('\n')), completion_tokens: countTokens(content) }));
}

async function toOpenAiContent(ctx: ProcessorContext<ChatParams>, content: string | Part[]): Promise<unknown> {
  if (typeof content === 'string') return content;
  const parts = [];
  for (const part of content) {
    if (typeof part === 'string') parts.push({ type: 'text', text: part });
    else if (isArtifactRef(part)) {
      const bytes = Buffer.from(await ctx.readAttachment(part));
      parts.push(part.mime.startsWith('image/') ? { type: 'image_url', image_url: { url: `data:${part.mime};base64,${bytes.toString('base64')}` } } : { type: 'text', text: bytes.toString('utf8') });
    } else parts.push(part);
  }
  return parts;
}

async function real(ctx: ProcessorContext<ChatParams>): Promise<void> {
  const requested = ctx.params.model ?? DEFAULT_MODEL;
  // LiteLLM-style names carry the provider; an OpenAI-compatible endpoint wants the bare model.
  const model = requested.includes('/') ? requested.slice(requested.indexOf('/') + 1) : requested;
  // Userinfo in the URL is never used or shown: it would land in logs, messages and envelopes.
  const { url: base, hadUserinfo } = withoutUserinfo((ctx.config('OPENAI_BASE_URL') ?? DEFAULT_BASE_URL).replace(/\/+$/, ''));
  if (hadUserinfo) ctx.log('OPENAI_BASE_URL carries credentials (user:password@); they are dropped — give the key as OPENAI_API_KEY', 'warn');
  const messages = [];
  for (const m of ctx.params.messages) messages.push({ role: m.role ?? 'user', ...(m.name && { name: m.name }), content: await toOpenAiContent(ctx, m.content) });
  const body = { model, messages, ...(ctx.params.temperature !== undefined && { temperature: ctx.params.temperature }), ...(ctx.params.max_tokens !== undefined && { max_tokens: ctx.params.max_tokens }) };
  ctx.log(`POST ${base}/chat/completions model=${model}`);
  let response: Response;
  try {
    response = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.secret('OPENAI_API_KEY')}` },
      body: JSON.stringify(body),
      signal: ctx.signal,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new ProcctlError('ERR_PROVIDER', `cannot reach ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { base_url: base }, { retryable: true });
  }
  const text = await response.text();
  if (!response.ok) {
    // Only throttling and server faults pass with time; 401/403 (a bad or unauthorised key) do not.
    const retryable = response.status === 429 || response.status >= 500;
    // The key is taken out before the body is cut: a cut through it would leave a piece that no
    // longer matches the whole value (the run's redactor also catches pieces, as a backstop).
    const key = ctx.secret('OPENAI_API_KEY');
    const shown = key ? text.split(key).join('[secret OPENAI_API_KEY]') : text;
    throw new ProcctlError('ERR_PROVIDER', `${base}/chat/completions answered ${response.status}: ${shown.slice(0, 300)}`, { status: response.status, base_url: base }, { retryable });
  }
  let parsed: ReturnType<typeof completion>;
  try {
    parsed = JSON.parse(text) as ReturnType<typeof completion>;
  } catch {
    throw new ProcctlError('ERR_PROVIDER', `${base}/chat/completions answered ${response.status} with a body that is not JSON`, { status: response.status, base_url: base });
  }
  const content = parsed.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new ProcctlError('ERR_PROVIDER', `${base}/chat/completions answered without choices[0].message.content`, { status: response.status, base_url: base });
  ctx.token(content);
  const usage = { prompt_tokens: parsed.usage?.prompt_tokens ?? 0, completion_tokens: parsed.usage?.completion_tokens ?? 0 };
  writeReply(ctx, completion(parsed.id ?? 'chatcmpl', requested, content, usage));
}

export default defineProcessor<ChatParams>({ mock, real });
