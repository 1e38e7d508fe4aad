// `queue top` for real: the built bin in a tmux terminal against Redis. Keys go in with
// send-keys, the screen comes back with capture-pane: filter, jump, drill down, purge with
// confirmation, back, quit (and the terminal is given back).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {openBroker} from '../../src/adapters/registry.js'
import {BIN, isolatedHome} from '../helpers/cli.js'
import {tmuxSession} from '../helpers/tmux.js'
import {colourCodes} from '../tui/sgr.js'

const URL = 'redis://127.0.0.1:6379/13'
const tag = `toptmux${process.pid}`
const session = `queuectl-top-${process.pid}`
const emails = `${tag}-emails`
const billing = `${tag}-billing`
let broker: Broker

const {tmux, keys, waitFor} = tmuxSession(session)

/** Types a string one key at a time, as a user would (Ink reads a burst as one input). */
async function type(text: string): Promise<void> {
  for (const ch of text) {
    keys('-l', ch)
    await new Promise((resolve) => setTimeout(resolve, 40))
  }
}

beforeAll(async () => {
  broker = await openBroker(URL, {timeoutMs: 5000})
  await broker.enqueue(emails, [1, 2, 3].map((n) => ({payload: JSON.stringify({to: `user${n}@example.com`}), name: 'send'})))
  await broker.enqueue(billing, [{payload: '{"invoice":7}'}])
  const env = Object.entries({...isolatedHome(), NO_COLOR: '1'}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
  // the shell prints the exit status once top has given the terminal back
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', ...env, `node ${BIN} top --url ${URL} --interval 500ms; echo "exit=$?"; sleep 120`)
})

afterAll(async () => {
  try {
    tmux('kill-session', '-t', session)
  } catch {}
  for (const q of [emails, billing]) await broker?.deleteQueue(q).catch(() => {})
  await broker?.close()
})

describe('queue top in a terminal', () => {
  it('filters, drills down, purges after confirmation, goes back and quits', async () => {
    // other suites may keep queues in this database too: this test's own are found by filtering
    await waitFor((s) => s.includes('TOTAL ('), 'the queue list', 60_000)
    // on a loaded machine a refresh can time out and show as stale for a moment: wait for a fresh one
    let s = await waitFor((t) => /redis:\/\/127\.0\.0\.1:6379\/13 +refreshed \d\d:\d\d:\d\d in \d+ms/.test(t), 'the footer')
    expect(s).toMatch(/QUEUE.*WAIT.*INFL.*DEAD.*OLDEST/)
    expect(s.trimEnd().split('\n').length).toBeLessThan(30)

    // filter: only this test's queues
    keys('/')
    await type(tag)
    keys('Enter')
    s = await waitFor((t) => /TOTAL \(2\)/.test(t), 'the filtered list')
    expect(s).toMatch(new RegExp(`${emails}\\s+list\\s+3`))

    // jump to a queue and see its messages and payload
    keys(':')
    await type(emails)
    keys('Enter')
    s = await waitFor((t) => t.includes('WAITING MESSAGES') && t.includes('"to": "user1@example.com"'), 'the queue detail')
    expect(s).toMatch(/waiting\s+3 /)

    // purge asks first; n cancels, y purges
    keys('D')
    await waitFor((t) => t.includes(`Purge 3 waiting messages of "list:${emails}"`), 'the purge question')
    keys('n')
    await waitFor((t) => t.includes('cancelled'), 'cancelled')
    expect((await broker.stats(emails)).counts.waiting).toBe(3)
    keys('D')
    await waitFor((t) => t.includes('[y/N]'), 'the purge question again')
    keys('y')
    await waitFor((t) => t.includes('purged 3 waiting messages'), 'the purge result')
    expect((await broker.stats(emails)).counts.waiting).toBe(0)

    // back to the list (jumping cleared the filter): filter again; the purged queue is empty
    // (an empty Redis list is gone altogether, so its row may be too)
    keys('Escape')
    await waitFor((t) => t.includes('? help'), 'the list')
    keys('/')
    await type(tag)
    keys('Enter')
    s = await waitFor((t) => new RegExp(`${billing}\\s+list\\s+1\\s`).test(t) && !new RegExp(`${emails}\\s+list\\s+[1-9]`).test(t), 'the list after the purge')
    expect(s).toMatch(/TOTAL \((1|2)\)\s+1\s/)

    // quit: the process ends with 0 and the alternate screen is left
    keys('q')
    s = await waitFor((t) => /exit=\d+/.test(t), 'the process to exit')
    expect(s).toContain('exit=0')
    expect(s).not.toContain('TOTAL (')
  }, 150_000)

  it('a broker that cannot be reached: the screen closes and the error is one line, exit 3', async () => {
    const down = `${session}-down`
    tmux('new-session', '-d', '-s', down, '-x', '120', '-y', '30', `node ${BIN} top --url redis://:hunter2@127.0.0.1:1 --timeout 2s; echo "exit=$?"; sleep 60`)
    try {
      const deadline = Date.now() + 30_000
      let text = ''
      while (Date.now() < deadline && !/exit=\d+/.test(text)) {
        text = tmux('capture-pane', '-p', '-t', down)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(text).toContain('exit=3')
      expect(text).toMatch(/Error: .*127\.0\.0\.1:1/)
      expect(text).not.toContain('hunter2')
      expect(text).not.toContain('connecting to')
    } finally {
      tmux('kill-session', '-t', down)
    }
  }, 60_000)

  it('NO_COLOR and FORCE_COLOR=0: no colour on the live screen (bold and the inverse selection stay); colours otherwise', async () => {
    const cases = {colour: {NO_COLOR: '', FORCE_COLOR: ''}, 'NO_COLOR=1': {NO_COLOR: '1', FORCE_COLOR: ''}, 'FORCE_COLOR=0': {NO_COLOR: '', FORCE_COLOR: '0'}}
    const sessions = Object.keys(cases).map((_, i) => `${session}-colour${i}`)
    try {
      Object.values(cases).forEach((vars, i) => {
        const env = Object.entries({...isolatedHome(), ...vars}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
        tmux('new-session', '-d', '-s', sessions[i]!, '-x', '120', '-y', '20', ...env, `node ${BIN} top --url ${URL} --interval 500ms; sleep 60`)
      })
      // capture-pane -e: the screen with its attributes as escape sequences
      const screens = await Promise.all(
        sessions.map(async (s) => {
          const deadline = Date.now() + 60_000
          let text = ''
          while (Date.now() < deadline && !/refreshed \d\d:\d\d:\d\d/.test(text)) {
            text = tmux('capture-pane', '-p', '-e', '-t', s)
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
          return text
        }),
      )
      const [colour, noColor, force0] = screens as [string, string, string]
      expect(colour).toMatch(/refreshed \d\d:\d\d:\d\d/)
      expect(colourCodes(colour).length).toBeGreaterThan(0)
      for (const screen of [noColor, force0]) {
        expect(screen).toMatch(/refreshed \d\d:\d\d:\d\d/)
        expect(screen).toContain('TOTAL (')
        expect(colourCodes(screen)).toEqual([])
        expect(screen).toMatch(/\u001B\[[\d;]*\b7[;m]/)
      }
    } finally {
      for (const s of sessions) {
        try {
          tmux('kill-session', '-t', s)
        } catch {}
      }
    }
  }, 90_000)
})

describe('queue top offers the keys of the selected queue', () => {
  const caps = `${session}-caps`
  const list = `list:${tag}-plain`
  const bull = `bullmq:${tag}-jobs`
  const kiq = `sidekiq:${tag}-work`
  const capsScreen = () => tmux('capture-pane', '-p', '-t', caps)
  const hints = (text: string) => text.split('\n').find((l) => l.includes('Esc back')) ?? ''
  async function until(test: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let text = ''
    while (Date.now() < deadline) {
      text = capsScreen()
      if (test(text)) return text
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${text}`)
  }
  async function open(queue: string): Promise<string> {
    tmux('send-keys', '-t', caps, 'Escape')
    tmux('send-keys', '-t', caps, ':')
    for (const ch of queue) {
      tmux('send-keys', '-t', caps, '-l', ch)
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    tmux('send-keys', '-t', caps, 'Enter')
    // the action keys show once the queue's capabilities are read (each of these queues purges)
    return until((t) => t.includes(`${queue} (`) && /Esc back.*D purge/.test(t), `the detail of ${queue}`)
  }

  beforeAll(async () => {
    await broker.enqueue(list, [{payload: '{"n":1}'}])
    await broker.enqueue(bull, [{payload: '{"n":2}', name: 'job'}])
    await broker.enqueue(kiq, [{payload: '[3]', name: 'HardJob'}])
    const env = Object.entries({...isolatedHome(), NO_COLOR: '1'}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    tmux('new-session', '-d', '-s', caps, '-x', '160', '-y', '30', ...env, `node ${BIN} top --url ${URL} --interval 500ms; echo "exit=$?"; sleep 120`)
  })

  afterAll(async () => {
    try {
      tmux('kill-session', '-t', caps)
    } catch {}
    for (const q of [list, bull, kiq]) await broker?.deleteQueue(q).catch(() => {})
  })

  it('P on a list or sidekiq queue is neither offered nor done; on a bullmq queue it pauses and resumes', async () => {
    await until((t) => t.includes('TOTAL ('), 'the queue list', 60_000)

    let s = await open(list)
    expect(hints(s)).not.toMatch(/\bP\b/)
    tmux('send-keys', '-t', caps, 'P')
    s = await until((t) => t.includes('cannot be paused'), 'the refusal')
    expect(s).toMatch(/only bullmq:, bull: and asynq: queues pause/)

    s = await open(kiq)
    expect(hints(s)).not.toMatch(/\bP\b/)
    expect(hints(s)).toMatch(/R retry/)
    tmux('send-keys', '-t', caps, 'P')
    await until((t) => t.includes('cannot be paused') && t.includes('Sidekiq Pro'), 'the sidekiq refusal')

    s = await open(bull)
    expect(hints(s)).toMatch(/P pause queue/)
    tmux('send-keys', '-t', caps, 'P')
    await until((t) => t.includes(`paused "${bull}"`), 'the pause')
    expect((await broker.stats(bull)).paused).toBe(true)
    await until((t) => t.includes(`${bull} (bullmq) on ${URL}  PAUSED`), 'the paused queue')
    tmux('send-keys', '-t', caps, 'P')
    await until((t) => t.includes(`resumed "${bull}"`), 'the resume')
    expect((await broker.stats(bull)).paused).toBeFalsy()

    tmux('send-keys', '-t', caps, 'q')
    expect(await until((t) => /exit=\d+/.test(t), 'the process to exit')).toContain('exit=0')
  }, 150_000)
})
