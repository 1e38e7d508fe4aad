// Issue 23: `q` in `queue top` does not wait for a broker still connecting. The second URL is a
// black hole (a loopback port that accepts and never answers): its handshake would run to --timeout.
import {createServer, type Server, type Socket} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome} from '../helpers/cli.js'
import {tmuxSession} from '../helpers/tmux.js'

const session = `queuectl-topquit-${process.pid}`
const {tmux, waitFor} = tmuxSession(session, 20)
const sockets = new Set<Socket>()
let hole: Server
let port = 0

beforeAll(async () => {
  hole = createServer((s) => {
    s.on('error', () => {})
    sockets.add(s)
  })
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
  port = (hole.address() as {port: number}).port
})

afterAll(async () => {
  try {
    tmux('kill-session', '-t', session)
  } catch {}
  for (const s of sockets) s.destroy()
  await new Promise((resolve) => hole.close(resolve))
})

describe('queue top with a second URL that never answers', () => {
  it('q quits within ~300 ms instead of waiting for the handshake to time out', async () => {
    const env = Object.entries({...isolatedHome(), NO_COLOR: '1'}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    const cmd = `node ${BIN} top --url redis://127.0.0.1:6379/13 --url redis://127.0.0.1:${port} --timeout 20s --interval 500ms; echo "exit=$?"; sleep 60`
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', ...env, cmd)
    await waitFor((t) => /connecting/i.test(t), 'the connecting screen')
    // Ink has loaded and the second handshake is hanging (the black hole has its connection)
    const deadline = Date.now() + 10_000
    while (sockets.size === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(sockets.size).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const sent = Date.now()
    tmux('send-keys', '-t', session, '-l', 'q')
    const s = await waitFor((t) => /exit=\d+/.test(t), 'the process to exit', 10_000)
    const took = Date.now() - sent
    expect(s).toContain('exit=0')
    // the handshake would have taken --timeout (20 s); a bound of ~300 ms plus the polling and tmux
    expect(took).toBeLessThan(700)
  }, 60_000)

  it('q on the queue list quits as fast while the refused second URL is being retried', async () => {
    const name = `${session}-refused`
    const env = Object.entries({...isolatedHome(), NO_COLOR: '1'}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', ...env, `node ${BIN} top --url redis://127.0.0.1:6379/13 --url redis://127.0.0.1:1 --interval 300ms; echo "exit=$?"; sleep 60`)
    const pane = () => tmux('capture-pane', '-p', '-t', name)
    try {
      const until = async (test: (t: string) => boolean, what: string, ms: number) => {
        const deadline = Date.now() + ms
        let text = ''
        while (Date.now() < deadline) {
          text = pane()
          if (test(text)) return text
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        throw new Error(`timed out waiting for ${what}; the screen was:\n${text}`)
      }
      await until((t) => t.includes('TOTAL ('), 'the queue list', 30_000)
      // a few refreshes: a reconnect to the refused URL is in flight most of the time
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const sent = Date.now()
      tmux('send-keys', '-t', name, '-l', 'q')
      const s = await until((t) => /exit=\d+/.test(t), 'the process to exit', 10_000)
      expect(s).toContain('exit=0')
      expect(Date.now() - sent).toBeLessThan(700)
    } finally {
      tmux('kill-session', '-t', name)
    }
  }, 60_000)
})
