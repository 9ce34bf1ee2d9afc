/**
 * A loopback reverse proxy that records every request it passes on: put it
 * in front of a server that keeps no request log (fake-gcs-server), point the
 * client at it, and read `requests` to see what the client sent, headers
 * included (an Authorization header, say). The Host header is rewritten to
 * the target's, so the target serves exactly what it would serve directly
 * (fake-gcs-server's public object URLs depend on it).
 *
 *   const recorder = await startRecordingProxy(gcs.endpoint)
 *   await runCli([...], {env: {E2B_ARTIFACTS_GCS_ENDPOINT: recorder.url}})
 *   assert.ok(recorder.requests.every((r) => r.headers.authorization === undefined))
 */
import http, {type IncomingHttpHeaders} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface RecordedRequest {
  readonly method: string
  /** The request target as received: path and query. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

export interface RecordingProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly requests: RecordedRequest[]
  close(): Promise<void>
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const origin = new URL(target)
  if (origin.hostname !== '127.0.0.1' && origin.hostname !== 'localhost') throw new Error(`recording proxy: ${target} is not on loopback`)
  const requests: RecordedRequest[] = []
  const server = http.createServer((req, res) => {
    requests.push({headers: {...req.headers}, method: req.method ?? 'GET', url: req.url ?? '/'})
    const upstream = http.request(
      {headers: {...req.headers, host: origin.host}, host: origin.hostname, method: req.method, path: req.url, port: origin.port},
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers)
        response.pipe(res)
      },
    )
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy()
      else res.writeHead(502, {'content-type': 'text/plain'}).end(`recording proxy: ${error.message}\n`)
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
    requests,
    url: `http://127.0.0.1:${port}`,
  }
}
