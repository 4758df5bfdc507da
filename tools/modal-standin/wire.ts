/**
 * Modal's wire protocol, taken from the installed SDK at run time: the SDK bundles ts-proto codecs
 * and the `ModalClient` service definition but exports neither, so its CommonJS bundle is compiled
 * here, in memory, under its own file name (so it resolves its own dependencies), with one line
 * added that hands the definition out. Nothing of the SDK is copied into this repository, and the
 * stand-in speaks exactly the protocol of the SDK version procctl pins.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One method of a ts-proto service definition, as nice-grpc reads it. */
export interface MethodDefinition {
  name: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { fromPartial(o: unknown): unknown; toJSON?(o: unknown): unknown };
  responseType: { fromPartial(o: unknown): unknown };
}

export interface ModalWire {
  /** `modal.client.ModalClient`: every RPC the SDK can make. */
  definition: { name: string; fullName: string; methods: Record<string, MethodDefinition> };
  /** nice-grpc, resolved from the SDK's own dependencies. */
  niceGrpc: typeof import('nice-grpc');
  sdkVersion: string;
}

const require = createRequire(import.meta.url);
let wire: ModalWire | undefined;

export function loadModalWire(): ModalWire {
  if (wire) return wire;
  const bundle = require.resolve('modal'); // the "require" condition: dist/index.cjs
  const source = readFileSync(bundle, 'utf8');
  const compiled = new Module(bundle) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  compiled.filename = bundle;
  compiled.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(bundle));
  compiled._compile(`${source}\nmodule.exports.__ModalClientDefinition = ModalClientDefinition;\n`, bundle);
  const exported = compiled.exports as { __ModalClientDefinition?: ModalWire['definition'] };
  if (!exported.__ModalClientDefinition?.methods) throw new Error(`the installed modal SDK at ${bundle} has no ModalClientDefinition`);
  const sdkRequire = createRequire(bundle);
  const pkg = JSON.parse(readFileSync(join(dirname(bundle), '..', 'package.json'), 'utf8')) as { version: string };
  wire = { definition: exported.__ModalClientDefinition, niceGrpc: sdkRequire('nice-grpc') as typeof import('nice-grpc'), sdkVersion: pkg.version };
  return wire;
}
