// Yardstick: graphile-worker 0.17's own API for what `queue bench --url postgres://…?flavor=graphile`
// does: each batch one workerUtils.addJobs (its bulk add: one add_jobs call), run by its runner with
// concurrency = prefetch and the batching of its performance docs (worker.graphile.org/docs/
// performance#batching): localQueue.size = concurrency + 1 (one locked fetch feeds the pool) and
// completeJobBatchDelay 0 (the completions of one tick in one query). New jobs wake it by
// LISTEN/NOTIFY, as they do the runner. node-postgres: no-delay is its default.
// Run: node bench/wire/graphile.mjs '{"url":"postgres://postgres@127.0.0.1:5432/qc_wire","count":20000,"size":128,"prefetch":64}'
import {makeWorkerUtils, run} from 'graphile-worker'
import {main} from './loop.mjs'

await main(async (o) => {
  const name = o.queue ?? `wt_wire_graphile_${process.pid}_${Date.now()}`
  const concurrency = o.prefetch ?? 64
  const preset = {worker: {connectionString: o.url, concurrentJobs: concurrency, localQueue: {size: concurrency + 1}, completeJobBatchDelay: 0, pollInterval: 2000}}
  const utils = await makeWorkerUtils({connectionString: o.url})
  await utils.migrate()
  const logger = {scope: () => logger, debug() {}, info() {}, warn() {}, error() {}}
  let runner
  return {
    send: (buffers) => utils.addJobs(buffers.map((b) => ({identifier: name, payload: {b: b.toString('base64')}}))),
    consume: async (onPayload) => {
      const {Logger} = await import('graphile-worker')
      runner = await run({preset, concurrency, noHandleSignals: true, logger: new Logger(() => () => {}), taskList: {[name]: async (payload) => void onPayload(Buffer.from(payload.b, 'base64'))}})
      return async () => {
        await runner.stop()
      }
    },
    close: async () => {
      await utils.withPgClient((c) => c.query('DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t WHERE j.task_id = t.id AND t.identifier = $1', [name]).then(() => c.query('DELETE FROM graphile_worker._private_tasks WHERE identifier = $1', [name]))).catch(() => {})
      await utils.release()
    },
  }
})
