// A fault-injecting HTTP proxy in front of the emulator, for what fauxqs never does on its own:
// throttling, and batch entries rejected as retryable (SenderFault false). Requests are forwarded
// unchanged otherwise, so the adapter still talks to a real SQS implementation.
import {createServer, request, type IncomingMessage, type Server} from 'node:http'

export interface Faults {
  /** Answer this many calls of `action` with a throttling error before forwarding. */
  throttle?: {action: string; times: number}
  /** In SendMessageBatch calls, fail entries whose body matches, as retryable, this many times each. */
  failEntries?: {bodyMatches: RegExp; times: number; senderFault?: boolean}
}

export interface FaultProxy {
  endpoint: string
  throttled: number
  failedEntries: number
  calls: Record<string, number>
  close(): Promise<void>
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export async function startFaultProxy(upstream: string, faults: Faults): Promise<FaultProxy> {
  const target = new URL(upstream)
  const failures = new Map<string, number>() // body → times failed so far
  const state: FaultProxy = {endpoint: '', throttled: 0, failedEntries: 0, calls: {}, close: async () => {}}

  const forward = (req: IncomingMessage, payload: Buffer): Promise<{status: number; headers: Record<string, string>; body: Buffer}> =>
    new Promise((resolve, reject) => {
      const headers = {...req.headers, host: target.host, 'content-length': String(payload.length)}
      const out = request({host: target.hostname, port: target.port, method: req.method, path: req.url, headers}, (res) => {
        void body(res).then((b) => resolve({status: res.statusCode ?? 500, headers: res.headers as Record<string, string>, body: b}), reject)
      })
      out.on('error', reject)
      out.end(payload)
    })

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await body(req)
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '')
      state.calls[action] = (state.calls[action] ?? 0) + 1
      if (faults.throttle && faults.throttle.action === action && state.throttled < faults.throttle.times) {
        state.throttled++
        res.writeHead(400, {'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'RequestThrottled;Sender'})
        res.end(JSON.stringify({__type: 'com.amazonaws.sqs#RequestThrottled', message: 'Rate exceeded'}))
        return
      }
      if (faults.failEntries && action === 'SendMessageBatch') {
        const request = JSON.parse(raw.toString('utf8')) as {Entries: {Id: string; MessageBody: string}[]}
        const rejected: {Id: string; SenderFault: boolean; Code: string; Message: string}[] = []
        request.Entries = request.Entries.filter((e) => {
          if (!faults.failEntries!.bodyMatches.test(e.MessageBody)) return true
          const times = failures.get(e.MessageBody) ?? 0
          if (times >= faults.failEntries!.times) return true
          failures.set(e.MessageBody, times + 1)
          state.failedEntries++
          const senderFault = faults.failEntries!.senderFault ?? false
          rejected.push({Id: e.Id, SenderFault: senderFault, Code: senderFault ? 'InvalidMessageContents' : 'InternalError', Message: 'injected by the test proxy'})
          return false
        })
        let answer: {Successful?: unknown[]; Failed?: unknown[]} = {Successful: [], Failed: []}
        if (request.Entries.length > 0) {
          const up = await forward(req, Buffer.from(JSON.stringify(request)))
          if (up.status !== 200) {
            res.writeHead(up.status, up.headers)
            res.end(up.body)
            return
          }
          answer = JSON.parse(up.body.toString('utf8')) as typeof answer
        }
        answer.Failed = [...(answer.Failed ?? []), ...rejected]
        res.writeHead(200, {'content-type': 'application/x-amz-json-1.0'})
        res.end(JSON.stringify(answer))
        return
      }
      const up = await forward(req, raw)
      res.writeHead(up.status, up.headers)
      res.end(up.body)
    })().catch((error: unknown) => {
      res.writeHead(500)
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as {port: number}
  state.endpoint = `http://127.0.0.1:${address.port}`
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}
