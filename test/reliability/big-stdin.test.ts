// 100 MB of NDJSON on stdin to `queue enqueue --url memory://`: validated in full, spooled to disk
// past a few MiB, then sent — in bounded memory. The child runs with a 128 MB V8 heap limit (a
// build-up of lines would crash it) and reports its peak RSS through a preloaded exit hook.
import {spawn} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {BIN} from './harness.js'

const TOTAL_BYTES = 100 * 1024 * 1024
const LINE_PAD = 480 // ~512-byte lines: ~205k messages

describe('hostile input: a 100 MB stdin', () => {
  it('enqueue streams 100 MB of NDJSON with a 128 MB heap; every line is sent; peak RSS reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qctl-rel-stdin-'))
    const hook = join(dir, 'peak.cjs')
    writeFileSync(hook, `process.on('exit', () => process.stderr.write('\\nPEAK_RSS_KB=' + process.resourceUsage().maxRSS + '\\n'))\n`)
    const pad = 'x'.repeat(LINE_PAD)
    const lineBytes = Buffer.byteLength(`{"seq":100000,"pad":"${pad}"}\n`)
    const lines = Math.ceil(TOTAL_BYTES / lineBytes)
    // generated as it is read, so the test process holds no 100 MB buffer either
    function* ndjson() {
      const chunk: string[] = []
      for (let i = 0; i < lines; i++) {
        chunk.push(`{"seq":${i},"pad":"${pad}"}\n`)
        if (chunk.length === 1000) yield chunk.splice(0).join('')
      }
      if (chunk.length) yield chunk.join('')
    }
    const env: NodeJS.ProcessEnv = {...process.env, ...isolatedHome(), NO_COLOR: '1'}
    delete env.QUEUE_URL
    const child = spawn(process.execPath, ['--max-old-space-size=128', '--require', hook, BIN, 'enqueue', 'big', '--url', 'memory://', '--json'], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    Readable.from(ndjson()).pipe(child.stdin)
    child.stdin.on('error', () => {})
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const peakKb = Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1])
    console.log(`[reliability] big-stdin: ${lines} lines (${(lines * lineBytes / 1048576).toFixed(0)} MiB), exit ${code}, peak RSS ${(peakKb / 1024).toFixed(0)} MiB`)
    expect(code, stderr.slice(-1500)).toBe(0)
    expect(stderr).not.toMatch(/heap out of memory|FATAL ERROR/)
    // --json prints one {"id","queue"} line per message sent
    const ids = stdout.split('\n').filter((l) => l.startsWith('{"id"'))
    expect(ids.length).toBe(lines)
    // the memory broker keeps every payload in this same process (~100 MB of Buffers); the lines
    // themselves must not pile up on top of that
    expect(peakKb / 1024).toBeLessThan(600)
  }, 300_000)
})
