// pg-boss 10 and graphile-worker 0.17 (Node 20): every CLI write path reaches their own workers with
// exactly the data given (./fidelity.ts); pg-boss 11/12 run it in pgboss-11-12.test.ts, graphile-worker
// 0.18 in graphile-18.test.ts.
import {describeWriteFidelity, graphileLibrary, pgbossLibrary} from './fidelity.js'

describeWriteFidelity('pg-boss 10', pgbossLibrary(10))
describeWriteFidelity('graphile-worker 0.17', graphileLibrary('graphile-worker'))
