import {describe, it} from 'vitest'
import {nodeHasGraphile18} from '../adapters/postgres/helpers.js'
import {describeGraphileContract} from './graphile-target.js'

// tables made by graphile-worker 0.18 (migration 20); it needs Node >= 22.18, so CI runs this on Node 24
if (nodeHasGraphile18) {
  describeGraphileContract('postgres graphile 0.18', 'graphile-worker-18')
} else {
  describe('broker contract: postgres graphile 0.18', () => {
    it.skipIf(!nodeHasGraphile18)('runs on Node >= 22.18 [graphile-worker 0.18 needs Node >= 22.18]', () => {})
  })
}
