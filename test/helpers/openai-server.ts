/**
 * A loopback OpenAI-compatible chat completions server: the stand-in for the provider, which no
 * test may reach. It records what it was sent and answers like the real API (or fails on demand).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: { model: string; messages: { role: string; content: unknown }[] };
}

export interface OpenAiServer {
  url: string;
  requests: RecordedRequest[];
  /** Makes the next answers fail with this status and body. */
  failWith(status: number, body: string): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOpenAiServer(host = '127.0.0.1'): Promise<OpenAiServer> {
  const requests: RecordedRequest[] = [];
  let failure: { status: number; body: string } | undefined;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const body = JSON.parse(text) as RecordedRequest['body'];
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'application/json' }).end(failure.body);
        return;
      }
      const last = body.messages[body.messages.length - 1];
      const content = `real reply from ${body.model} to ${JSON.stringify(last?.content)}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/v1`,
    requests,
    failWith(status, body) {
      failure = { status, body };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
