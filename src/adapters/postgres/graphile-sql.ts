// graphile-worker 0.16–0.18 statements (its _private_ tables, migrations up to 20), as its
// dist/sql/*.js write them, with the schema passed in already quoted. Our variants say why.
// Migration 20 (0.18) only rewrote add_job/add_jobs not to spend task ids: the tables are the same.

export const GRAPHILE_MIGRATIONS = {min: 16, max: 20}

const ALIVE = 'locked_at IS NULL AND attempts < max_attempts'
// not failing: never failed, or revived (reschedule_jobs set its attempts back to 0, last_error stays)
const FRESH = '(last_error IS NULL OR attempts = 0)'
// contract state → a predicate on _private_jobs
export const STATE_WHERE: Record<string, string> = {
  waiting: `${ALIVE} AND ${FRESH} AND run_at <= now()`,
  delayed: `${ALIVE} AND ${FRESH} AND run_at > now()`,
  retry: `${ALIVE} AND last_error IS NOT NULL AND attempts > 0`,
  inflight: 'locked_at IS NOT NULL',
  dead: 'locked_at IS NULL AND attempts >= max_attempts',
}

export const taskIdSql = (s: string) => `SELECT id FROM ${s}._private_tasks WHERE identifier = $1`
export const listSql = (s: string) => `SELECT identifier FROM ${s}._private_tasks ORDER BY identifier`
/** getTaskDetails (0.18): registers the identifier only when missing, so no identity value is spent. */
export const ensureTaskSql = (s: string) =>
  `INSERT INTO ${s}._private_tasks (identifier) SELECT $1::text WHERE NOT EXISTS (SELECT 1 FROM ${s}._private_tasks WHERE identifier = $1::text) ON CONFLICT DO NOTHING`

// counts of several tasks in one pass: graphile-worker has no index on task_id, so each count is a
// scan of the whole table, and stats of many tasks at once share it (graphile.ts TaskCounts)
export const statsSql = (s: string) => `
  SELECT
    count(*) FILTER (WHERE ${STATE_WHERE.waiting})::int AS waiting,
    count(*) FILTER (WHERE ${STATE_WHERE.delayed})::int AS delayed,
    count(*) FILTER (WHERE ${STATE_WHERE.retry})::int AS retry,
    count(*) FILTER (WHERE ${STATE_WHERE.inflight})::int AS inflight,
    count(*) FILTER (WHERE ${STATE_WHERE.dead})::int AS dead,
    count(*) FILTER (WHERE job_queue_id IS NOT NULL)::int AS in_named_queues,
    min(run_at) FILTER (WHERE ${STATE_WHERE.waiting}) AS oldest,
    task_id
  FROM ${s}._private_jobs WHERE task_id = any($1::int[]) GROUP BY task_id`

const COLUMNS = 'jobs.id::text AS id, jobs.job_queue_id, jobs.payload, jobs.priority, jobs.run_at, jobs.attempts, jobs.max_attempts, jobs.last_error, jobs.created_at, jobs.key, jobs.locked_at, jobs.locked_by, jobs.flags'

/** In the order a worker would take them (getJobs: priority, run_at). */
export const peekSql = (s: string, state: string) => `
  SELECT ${COLUMNS}, q.queue_name FROM ${s}._private_jobs AS jobs
  LEFT JOIN ${s}._private_job_queues AS q ON q.id = jobs.job_queue_id
  WHERE jobs.task_id = $1 AND ${STATE_WHERE[state]!.replace(/\b(locked_at|attempts|max_attempts|last_error|run_at)\b/g, 'jobs.$1')}
  ORDER BY jobs.priority, jobs.run_at, jobs.id LIMIT $2`

/**
 * addJobs (helpers.js): add_jobs over json_populate_recordset; rows come back in input order. One
 * batch shares now(), and workers order ties arbitrarily: a microsecond apart (ending at now(), so
 * all are due) keeps it FIFO.
 */
export const addJobsSql = (s: string) => `
  SELECT id::text AS id FROM ${s}.add_jobs(
    array(
      SELECT (spec.identifier, spec.payload, spec.queue_name, COALESCE(spec.run_at, now() - (json_array_length($1::json) - i) * interval '1 microsecond'),
              spec.max_attempts, spec.job_key, spec.priority, spec.flags)::${s}.job_spec
      FROM json_populate_recordset(null::${s}.job_spec, $1::json) WITH ORDINALITY AS spec(identifier, payload, queue_name, run_at, max_attempts, job_key, priority, flags, i)
      ORDER BY i
    ),
    false
  )`

/**
 * addJobsSql for a batch with job keys: a key keeps the first job (dedupId is first-wins), as add_job's
 * job_key_mode 'unsafe_dedupe' does, not add_jobs' replace. Only the first spec of a key no job has
 * goes to add_jobs; the others get the id of the job holding it, in input order.
 */
export const addJobsKeepFirstSql = (s: string) => `
  WITH spec AS MATERIALIZED (
    SELECT spec.*, COALESCE(spec.run_at, now() - (json_array_length($1::json) - i) * interval '1 microsecond') AS due,
      row_number() OVER (PARTITION BY job_key ORDER BY i) AS nth
    FROM json_populate_recordset(null::${s}.job_spec, $1::json) WITH ORDINALITY AS spec(identifier, payload, queue_name, run_at, max_attempts, job_key, priority, flags, i)
  ), held AS MATERIALIZED (
    SELECT jobs.key, jobs.id FROM ${s}._private_jobs AS jobs
    WHERE jobs.key = any(array(SELECT job_key FROM spec WHERE job_key IS NOT NULL))
  ), fresh AS MATERIALIZED (
    SELECT spec.*, row_number() OVER (ORDER BY i) AS r FROM spec
    WHERE job_key IS NULL OR (nth = 1 AND NOT EXISTS (SELECT 1 FROM held WHERE held.key = spec.job_key))
  ), added AS MATERIALIZED (
    SELECT added.id, added.key, added.ordinality AS r
    FROM (SELECT array(
      SELECT (identifier, payload, queue_name, due, max_attempts, job_key, priority, flags)::${s}.job_spec FROM fresh ORDER BY i
    ) AS specs) AS batch,
    LATERAL ${s}.add_jobs(batch.specs, false) WITH ORDINALITY AS added
    WHERE cardinality(batch.specs) > 0
  )
  SELECT COALESCE(held.id, by_key.id, by_rank.id)::text AS id
  FROM spec
  LEFT JOIN held ON held.key = spec.job_key
  LEFT JOIN added AS by_key ON by_key.key = spec.job_key
  LEFT JOIN fresh ON fresh.i = spec.i
  LEFT JOIN added AS by_rank ON by_rank.r = fresh.r
  ORDER BY spec.i`

/**
 * batchGetJobs (0.18), named-queue strategy 2, for one task: a batch keeps one job per named queue,
 * so two jobs of one queue never run at once (0.17 could lock several).
 */
export const fetchSql = (s: string) => `
  WITH j_raw AS (
    SELECT jobs.job_queue_id, jobs.priority, jobs.run_at, jobs.id
      FROM ${s}._private_jobs AS jobs
      WHERE jobs.is_available = true
      AND run_at <= now()
      AND task_id = any($2::int[])
      AND (
        jobs.job_queue_id IS NULL
        OR jobs.job_queue_id IN (
          SELECT id FROM ${s}._private_job_queues AS job_queues
          WHERE job_queues.is_available = true
          FOR UPDATE SKIP LOCKED
        )
      )
      ORDER BY priority ASC, run_at ASC
      LIMIT $3
      FOR UPDATE SKIP LOCKED
  ), j AS (
    SELECT DISTINCT ON (job_queue_id, CASE WHEN job_queue_id IS NULL THEN id END) job_queue_id, priority, run_at, id
      FROM j_raw
      ORDER BY job_queue_id, CASE WHEN job_queue_id IS NULL THEN id END, priority ASC, run_at ASC
  ), q AS (
    UPDATE ${s}._private_job_queues AS job_queues
      SET locked_by = $1::text, locked_at = now()
      FROM j
      WHERE job_queues.id = j.job_queue_id
  )
  UPDATE ${s}._private_jobs AS jobs
    SET attempts = jobs.attempts + 1, locked_by = $1::text, locked_at = now()
    FROM j
    WHERE jobs.id = j.id
    RETURNING ${COLUMNS}, (SELECT queue_name FROM ${s}._private_job_queues WHERE id = jobs.job_queue_id) AS queue_name`

/** completeJobs: the job row goes (only while it is still our lease). */
export const completeSql = (s: string) => `
  WITH j AS (
    DELETE FROM ${s}._private_jobs AS jobs
    USING unnest($1::bigint[]) n(n)
    WHERE id = n AND locked_by = $2::text
    RETURNING *
  )
  UPDATE ${s}._private_job_queues AS job_queues
    SET locked_by = NULL, locked_at = NULL
    FROM j
    WHERE job_queues.id = j.job_queue_id AND job_queues.locked_by = $2::text`

/** failJobs: last_error, exponential backoff (or our delay, $4), unlocked. */
export const failSql = (s: string) => unlockQueues(s, `
    UPDATE ${s}._private_jobs AS jobs SET
      last_error = $3::text,
      run_at = COALESCE(now() + $4::interval, greatest(now(), run_at) + (exp(least(attempts, 10)) * interval '1 second')),
      locked_by = NULL,
      locked_at = NULL
    WHERE id = any($1::bigint[]) AND locked_by = $2::text`)

/** A plain hand-back: unlocked as it is (the attempt it had stays counted), after $3 if given. */
export const handBackSql = (s: string) => unlockQueues(s, `
    UPDATE ${s}._private_jobs AS jobs SET
      run_at = greatest(run_at, now() + $3::interval),
      locked_by = NULL,
      locked_at = NULL
    WHERE id = any($1::bigint[]) AND locked_by = $2::text`)

/** returnJobs: jobs fetched but never handed out go back with their attempt undone. */
export const returnSql = (s: string) => unlockQueues(s, `
    UPDATE ${s}._private_jobs AS jobs SET
      attempts = GREATEST(0, attempts - 1),
      locked_by = NULL,
      locked_at = NULL
    WHERE id = any($1::bigint[]) AND locked_by = $2::text`)

/** permanently_fail_jobs on our own lease (the function skips locked jobs, so we unlock in the same statement). */
export const permanentlyFailSql = (s: string) => unlockQueues(s, `
    UPDATE ${s}._private_jobs AS jobs SET
      last_error = $3::text,
      attempts = max_attempts,
      updated_at = now(),
      locked_by = NULL,
      locked_at = NULL
    WHERE id = any($1::bigint[]) AND locked_by = $2::text`)

/** Keeps our lease: the sweep below measures from locked_at. */
export const extendSql = (s: string) =>
  `UPDATE ${s}._private_jobs SET locked_at = now() + $3::interval WHERE id = $1::bigint AND locked_by = $2::text`

/** Our leases (worker ids under $2) older than $3 go back, as the library's 4-hour reset does for all. */
export const sweepSql = (s: string) => `
  WITH j AS (
    UPDATE ${s}._private_jobs SET locked_by = NULL, locked_at = NULL
    WHERE task_id = $1 AND locked_by LIKE $2 AND locked_at < now() - $3::interval
    RETURNING job_queue_id
  )
  UPDATE ${s}._private_job_queues AS job_queues
    SET locked_by = NULL, locked_at = NULL
    FROM j
    WHERE job_queues.id = j.job_queue_id AND job_queues.locked_by LIKE $2`

// The queue lock is ours when the job's was: $2 is the worker id that held both.
function unlockQueues(s: string, update: string): string {
  return `
  WITH j AS (${update}
    RETURNING job_queue_id
  )
  UPDATE ${s}._private_job_queues AS job_queues
    SET locked_by = NULL, locked_at = NULL
    FROM j
    WHERE job_queues.id = j.job_queue_id AND job_queues.locked_by = $2::text`
}

export const idsInStateSql = (s: string, state: string) =>
  `SELECT id FROM ${s}._private_jobs WHERE task_id = $1 AND ${STATE_WHERE[state]} AND ($2::bigint[] IS NULL OR id = any($2::bigint[])) ORDER BY id LIMIT $3`

/** complete_jobs: the library's own delete by id (it skips locked jobs), of this task's jobs in the state asked. */
export const removeSql = (s: string, state: string) =>
  `SELECT count(*)::int AS n FROM ${s}.complete_jobs(array(SELECT id FROM ${s}._private_jobs WHERE task_id = $1 AND ${STATE_WHERE[state]} AND id = any($2::bigint[])))`

/** reschedule_jobs: the library's way to run jobs again (attempts reset for dead ones). */
export const rescheduleSql = (s: string) =>
  `SELECT count(*)::int AS n FROM ${s}.reschedule_jobs($1::bigint[], run_at := now(), attempts := $2::int)`

export const purgeSql = (s: string, state: string) =>
  `WITH d AS (DELETE FROM ${s}._private_jobs WHERE task_id = $1 AND ${STATE_WHERE[state]} RETURNING 1) SELECT count(*)::int AS n FROM d`

export const deleteJobsSql = (s: string) =>
  `WITH d AS (DELETE FROM ${s}._private_jobs WHERE task_id = $1 AND locked_at IS NULL RETURNING 1) SELECT count(*)::int AS n FROM d`
export const deleteTaskSql = (s: string) =>
  `DELETE FROM ${s}._private_tasks t WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ${s}._private_jobs WHERE task_id = t.id)`

/** Workers holding jobs now: graphile-worker's locked_by, with the jobs, their tasks and when each was locked. */
export const lockedBySql = (s: string) => `
  SELECT jobs.locked_by, jobs.id::text AS id, t.identifier, min(jobs.locked_at) OVER (PARTITION BY jobs.locked_by) AS first_lock,
    max(jobs.locked_at) OVER (PARTITION BY jobs.locked_by) AS last_lock, jobs.locked_at
  FROM ${s}._private_jobs AS jobs JOIN ${s}._private_tasks AS t ON t.id = jobs.task_id
  WHERE jobs.locked_by IS NOT NULL ORDER BY jobs.locked_by, jobs.id`
