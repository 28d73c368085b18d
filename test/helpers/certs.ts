import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  /** The CA the proxy trusts for client certificates, and that signed the server's. */
  readonly ca: Pem;
  /** The proxy's server certificate, for `serverName` and 127.0.0.1. */
  readonly server: Pem;
  /** Client certificates signed by `ca`. */
  readonly clientA: Pem;
  readonly clientB: Pem;
  /** A client certificate signed by another CA, which the proxy does not trust. */
  readonly rogue: Pem;
}

/**
 * Short-lived EC certificates for the mTLS tests, made at test time with the `openssl` CLI (OpenSSL 3:
 * `req -x509 -CA` signs in one step). Nothing is written outside a temporary folder, which is removed.
 */
export const makeCertificates = (serverName: string): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), 'certs-'));
  const issue = (name: string, subject: string, extensions: string[], signer?: string): Pem => {
    const keyFile = join(dir, `${name}.key`);
    const certFile = join(dir, `${name}.crt`);
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    args.push('-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${subject}`);
    if (signer !== undefined)
      args.push('-CA', join(dir, `${signer}.crt`), '-CAkey', join(dir, `${signer}.key`));
    for (const extension of extensions) args.push('-addext', extension);
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      throw new Error(`openssl could not make the test certificate ${name} (OpenSSL 3 is needed)`, {
        cause: error,
      });
    }
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  };
  const caExtensions = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
  const leaf = (usage: string) => ['basicConstraints=CA:FALSE', `extendedKeyUsage=${usage}`];
  try {
    const ca = issue('ca', 'test-ca', caExtensions);
    issue('other-ca', 'other-ca', caExtensions);
    return {
      ca,
      server: issue(
        'server',
        serverName,
        [...leaf('serverAuth'), `subjectAltName=DNS:${serverName},IP:127.0.0.1`],
        'ca',
      ),
      clientA: issue('client-a', 'client-a', leaf('clientAuth'), 'ca'),
      clientB: issue('client-b', 'client-b', leaf('clientAuth'), 'ca'),
      rogue: issue('rogue', 'rogue', leaf('clientAuth'), 'other-ca'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
