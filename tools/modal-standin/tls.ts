/**
 * The stand-in's tunnels are TLS, like Modal's: a throw-away CA and a server certificate for
 * 127.0.0.1/localhost, made with openssl. A client trusts them through NODE_EXTRA_CA_CERTS=<ca>.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** PEM file of the CA: what NODE_EXTRA_CA_CERTS points at. */
  caFile: string;
  key: Buffer;
  cert: Buffer;
}

export function makeCertificates(dir = mkdtempSync(join(tmpdir(), 'procctl-modal-standin-tls-'))): TestCertificates {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=procctl modal stand-in test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('tunnel.key'), '-out', at('tunnel.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(at('tunnel.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', at('tunnel.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('tunnel.pem'), '-days', '2', '-extfile', at('tunnel.ext'));
  return readCertificates(dir);
}

/** Certificates made earlier by makeCertificates (e.g. by a parent process that set NODE_EXTRA_CA_CERTS). */
export function readCertificates(dir: string): TestCertificates {
  return { dir, caFile: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'tunnel.key')), cert: readFileSync(join(dir, 'tunnel.pem')) };
}
