// A terminal for the TUI's end-to-end tests: one tmux session, its screen read with capture-pane,
// keys sent with send-keys, and a bounded wait for what the screen should show.
import {execFileSync} from 'node:child_process'

export function tmuxSession(session: string, pollMs = 100) {
  const tmux = (...args: string[]) => execFileSync('tmux', args, {encoding: 'utf8'})
  const screen = () => tmux('capture-pane', '-p', '-t', session)
  const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k)
  async function waitFor(test: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let text = ''
    while (Date.now() < deadline) {
      text = screen()
      if (test(text)) return text
      await new Promise((resolve) => setTimeout(resolve, pollMs))
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${text}`)
  }
  return {tmux, screen, keys, waitFor}
}
