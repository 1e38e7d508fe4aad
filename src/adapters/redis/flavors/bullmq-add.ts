// A batch added as BullMQ 6's Queue#addBulk adds it (Job.createBulk: the same Job objects, the
// same validation, one pipeline of its add scripts through its backend's addJobToTransaction), but
// with the pipeline written before this returns, where addBulk writes it a few turns later (after
// awaiting its client and a telemetry span): a later call's jobs are then stored after these, so
// the caller may send its next batch without waiting for this one's reply (EnqueueOptions.onWritten).
import type {JobsOptions, Queue} from 'bullmq'

type Entry = {name: string; data: unknown; opts: JobsOptions}
type Pipeline = {exec(): Promise<[Error | null, unknown][] | null>}
interface AddInternals {
  jobsOpts: JobsOptions
  Job: new (queue: Queue, name: string, data: unknown, opts: JobsOptions, id?: string) => {id?: string; parentKey?: string; asJSON(): unknown; validateOptions(json: unknown): void}
  backend: {addJobToTransaction(client: unknown, job: unknown, jobId: unknown, parentKeyOpts: unknown): Promise<unknown>}
}

/** The connection addBulk would write on, resolved (its backend's client promise). */
export async function addClientOf(queue: Queue): Promise<{pipeline(): Pipeline}> {
  return (await (queue as unknown as {backend: {client: Promise<unknown>}}).backend.client) as {pipeline(): Pipeline}
}

/** The ids of `jobs`, in order; the pipeline is on the wire (or the connection's queue) when this returns. */
export function addBulkWrittenNow(queue: Queue, client: {pipeline(): Pipeline}, jobs: Entry[]): Promise<string[]> {
  const q = queue as unknown as AddInternals
  // Queue#addBulk's merge of the queue's default job options, then Job.createBulk's steps
  const made = jobs.map((job) => new q.Job(queue, job.name, job.data, {...q.jobsOpts, ...job.opts, jobId: job.opts.jobId, telemetry: job.opts.telemetry}, job.opts.jobId))
  const pipeline = client.pipeline()
  for (const job of made) {
    const json = job.asJSON()
    job.validateOptions(json)
    const parentKeyOpts = {parentKey: job.parentKey, parentDependenciesKey: job.parentKey ? `${job.parentKey}:dependencies` : ''}
    // its command is queued on the pipeline before the first await inside; the outcome is read from exec
    void q.backend.addJobToTransaction(pipeline, json, job.id, parentKeyOpts).catch(() => {})
  }
  return pipeline.exec().then((results) =>
    (results ?? []).map(([error, id]) => {
      if (error) throw error
      return String(id)
    }),
  )
}
