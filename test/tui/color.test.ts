// NO_COLOR / FORCE_COLOR=0 on the live screen: the components leave colours out (ColorContext)
// and keep bold and inverse (the selected row). Chalk reads FORCE_COLOR once, as it loads: set it
// before Ink is imported, so that colours would show if a component let one through.
import {createElement as h} from 'react'
import {afterAll, describe, expect, it} from 'vitest'
import {memoryBroker} from './gate.js'
import {colourCodes} from './sgr.js'

const saved = process.env.FORCE_COLOR
process.env.FORCE_COLOR = '3'
const {render} = await import('ink-testing-library')
const {TopApp} = await import('../../src/tui/app.js')
const {ColorContext} = await import('../../src/tui/components/text.js')
afterAll(() => {
  if (saved === undefined) delete process.env.FORCE_COLOR
  else process.env.FORCE_COLOR = saved
})

async function frameWith(color: boolean): Promise<string> {
  const broker = await memoryBroker()
  await broker.enqueue('emails', [{payload: '1'}, {payload: '2'}])
  const app = render(h(ColorContext.Provider, {value: color}, h(TopApp, {brokers: [broker], labels: ['mem'], intervalMs: 100})))
  try {
    const deadline = Date.now() + 10_000
    while (!(app.lastFrame() ?? '').includes('TOTAL (1)') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    return app.lastFrame() ?? ''
  } finally {
    app.unmount()
    await broker.close()
  }
}

describe('colours on the live screen', () => {
  it('are there by default (the header is cyan, the footer gray)', async () => {
    const frame = await frameWith(true)
    expect(frame).toContain('TOTAL (1)')
    expect(colourCodes(frame)).toContain('36')
  })

  it('are left out when off, keeping bold and the inverse selected row', async () => {
    const frame = await frameWith(false)
    expect(frame).toContain('TOTAL (1)')
    expect(colourCodes(frame)).toEqual([])
    expect(frame).toContain('\u001B[1m')
    expect(frame).toContain('\u001B[7m')
  })
})
