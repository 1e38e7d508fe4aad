// The frame `queue top` paints by hand before Ink has loaded: the connecting screen, in the same
// place Ink then paints it, without colours when they are off.
import {describe, expect, it} from 'vitest'
import {firstFrame} from '../../src/tui/first-frame.js'
import {colourCodes} from './sgr.js'

describe('firstFrame', () => {
  it('enters the alternate screen and draws the title, what it connects to and "q quit" on the last line', () => {
    const out = firstFrame({urls: ['redis://:***@10.0.0.1:6379', ''], color: true, columns: 120, rows: 30})
    expect(out.startsWith('\u001B[?1049h')).toBe(true)
    expect(out).toContain('queue top')
    expect(out).toContain('connecting to redis://:***@10.0.0.1:6379…')
    expect(out).toContain('\u001B[29;1H\u001B[2mq quit')
    expect(colourCodes(out)).toEqual(['36'])
  })

  it('truncates to the terminal width, and has no colour when off', () => {
    const out = firstFrame({urls: ['amqp://a-very-long-host-name.example.com:5672'], color: false, columns: 20, rows: 10})
    expect(out).toContain('\u001B[2mconnecting to amqp:…\u001B[22m')
    expect(colourCodes(out)).toEqual([])
    expect(out).toContain('\u001B[1mqueue top')
  })
})
