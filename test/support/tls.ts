/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1,
 * ::1 and localhost, made with the openssl CLI (Node has no X.509 writer).
 * Loopback test servers serve HTTPS with it; a CLI under test trusts it
 * through NODE_EXTRA_CA_CERTS=caFile, and in-process clients pass `ca`. A
 * real chain (CA + leaf) rather than one self-signed leaf, because some
 * clients refuse a CA certificate presented as a server certificate.
 */
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'

import {findBinary, tempDataDir} from './processes.js'

export interface TestCertificate {
  /** PEM file of the CA that signed `certFile`: the value for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly ca: string
  readonly cert: string
  readonly key: string
}

const run = promisify(execFile)

// Our own config, so the result does not depend on the distribution's openssl.cnf.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = e2b-artifacts loopback test CA
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

let certificate: Promise<TestCertificate> | undefined

/** One certificate per test process, in a temp dir removed at exit. */
export function testCertificate(): Promise<TestCertificate> {
  certificate ??= createCertificate()
  return certificate
}

async function createCertificate(): Promise<TestCertificate> {
  const openssl = findBinary('openssl', {install: 'apt-get install openssl'})
  const dir = tempDataDir('tls')
  const file = (name: string): string => path.join(dir, name)
  await writeFile(file('openssl.cnf'), OPENSSL_CONFIG)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  const days = ['-days', '7']
  const ssl = (args: string[]): Promise<unknown> => run(openssl, args, {cwd: dir})

  await ssl(['req', '-config', file('openssl.cnf'), '-x509', ...ec, ...days, '-extensions', 'ca', '-keyout', file('ca.key'), '-out', file('ca.pem')])
  await ssl(['req', '-config', file('openssl.cnf'), '-new', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr')])
  await ssl([
    'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, ...days,
    '-extfile', file('openssl.cnf'), '-extensions', 'server', '-out', file('server.pem'),
  ])
  const [ca, cert, key] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map((name) => readFile(file(name), 'utf8')))
  return {ca: ca!, caFile: file('ca.pem'), cert: cert!, certFile: file('server.pem'), key: key!, keyFile: file('server.key')}
}
