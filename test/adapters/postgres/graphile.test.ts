// graphile-worker 0.17 beside queuectl on Node 20 (./graphile-interop.ts; 0.18 in graphile-18.test.ts).
import {describeGraphileInterop} from './graphile-interop.js'

describeGraphileInterop('0.17', 'graphile-worker')
