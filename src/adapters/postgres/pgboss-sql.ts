// pg-boss 10's statements (schema versions 21–24) and pg-boss 11's (25–26: expire_seconds for
// expire_in, deletion_seconds, retry_delay_max, no archive), as their src/plans.js write them, with
// the schema passed in already quoted. pg-boss 12 (27–46) adds opt-in columns to the same tables:
// heartbeats (30) and dependency-blocked jobs (31) are kept here; the rest has defaults. Where
// queuectl needs a variant (one queue's timeouts, ids or all) the change is named in a comment;
// everything else is the library's text.

export const PGBOSS_VERSIONS = {min: 21, max: 46}
/** Schema version 25 (pg-boss 11) on: the columns below. */
export const isV11 = (version: number) => version >= 25
/** pg-boss 12.12 (schema 30) on: job heartbeat_on/heartbeat_seconds, which its supervisor fails jobs by. */
const hasHeartbeat = (version: number) => version >= 30
/** pg-boss 12.19 (schema 31) on: jobs blocked until the jobs they depend on complete. */
export const hasBlocked = (version: number) => version >= 31

// contract state → a predicate on the job table. pg-boss's workers fetch `retry` jobs as they fetch
// `created` ones (state < 'active'), so both are waiting, or delayed while start_after is ahead; a
// job blocked by its dependencies is held back (delayed)
export function stateWhere(v: number): Record<string, string> {
  const blocked = hasBlocked(v)
  const queued = "state IN ('created', 'retry')"
  return {
    waiting: `${queued} AND start_after <= now()${blocked ? ' AND NOT blocked' : ''}`,
    delayed: blocked ? `${queued} AND (start_after > now() OR blocked)` : `${queued} AND start_after > now()`,
    inflight: "state = 'active'",
    completed: "state = 'completed'",
    dead: "state IN ('failed', 'cancelled')",
  }
}

const jobColumns = (v: number, a = '') =>
  ['id', 'name', 'priority', 'data', 'retry_count', 'retry_limit', 'start_after', 'started_on', 'created_on', 'completed_on', 'singleton_key', 'output', 'dead_letter', 'policy']
    .map((c) => a + c)
    .concat(`${a}state::text AS state`, isV11(v) ? `${a}expire_seconds` : `extract(epoch FROM ${a}expire_in) AS expire_seconds`)
    .join(', ')

/** One pass over the queue's partition: every count, and the oldest waiting job. */
export const statsSql = (s: string, v: number) => `
  SELECT
    count(*) FILTER (WHERE ${stateWhere(v).waiting})::int AS waiting,
    count(*) FILTER (WHERE ${stateWhere(v).delayed})::int AS delayed,
    count(*) FILTER (WHERE state = 'retry')::int AS retrying,
    count(*) FILTER (WHERE state = 'active')::int AS inflight,
    count(*) FILTER (WHERE state = 'completed')::int AS completed,
    count(*) FILTER (WHERE state = 'failed')::int AS failed,
    count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled,
    min(start_after) FILTER (WHERE ${stateWhere(v).waiting}) AS oldest
  FROM ${s}.job WHERE name = $1`

export const archiveStatsSql = (s: string) =>
  `SELECT state::text AS state, count(*)::int AS n FROM ${s}.archive WHERE name = $1 GROUP BY 1`

export const queueSql = (s: string, v: number) =>
  `SELECT name, policy, retry_limit, retry_delay, retry_backoff, expire_seconds, ${isV11(v) ? 'retention_seconds / 60 AS retention_minutes' : 'retention_minutes'}, dead_letter FROM ${s}.queue WHERE name = $1`

export const listSql = (s: string) => `SELECT name FROM ${s}.queue WHERE name NOT LIKE '\\_\\_pgboss\\_\\_%' ORDER BY name`

/** In the order a worker would take them (fetchNextJob's ORDER BY). */
/** `extra`: more conditions, on parameters from $3 on (a pushed-down --where). */
export const peekSql = (s: string, v: number, state: string, extra = '') => `
  SELECT ${jobColumns(v)} FROM ${s}.job WHERE name = $1 AND ${stateWhere(v)[state]}${extra}
  ORDER BY ${state === 'waiting' || state === 'delayed' ? 'priority desc, created_on, id' : 'created_on, id'} LIMIT $2`

export const createQueueSql = (s: string) => `SELECT ${s}.create_queue($1, $2)`
export const deleteQueueSql = (s: string) => `SELECT ${s}.delete_queue($1)`

/** plans.insertJobs, plus RETURNING id so dedup (ON CONFLICT DO NOTHING) shows. */
export const insertJobsSql = (s: string, v: number) => (isV11(v) ? insertJobsV11Sql(s, v) : `
  WITH defaults as (
    SELECT $2 as expire_in, $3 as keep_until, $4::int as retry_limit, $5::int as retry_delay, $6::bool as retry_backoff
  )
  INSERT INTO ${s}.job (id, name, data, priority, start_after, singleton_key, singleton_on, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
  SELECT
    COALESCE(id, gen_random_uuid()) as id,
    j.name,
    data,
    COALESCE(priority, 0) as priority,
    j.start_after,
    "singletonKey" as singleton_key,
    CASE
      WHEN "singletonSeconds" IS NOT NULL THEN 'epoch'::timestamp + '1 second'::interval * ("singletonSeconds" * floor( date_part('epoch', now()) / "singletonSeconds" ))
      ELSE NULL
      END as singleton_on,
    COALESCE("deadLetter", q.dead_letter) as dead_letter,
    CASE
      WHEN "expireInSeconds" IS NOT NULL THEN "expireInSeconds"::numeric * interval '1s'
      WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s'
      WHEN defaults.expire_in IS NOT NULL THEN defaults.expire_in::numeric * interval '1s'
      ELSE interval '15 minutes'
      END as expire_in,
    CASE
      WHEN "keepUntil" IS NOT NULL THEN "keepUntil"
      ELSE COALESCE(j.start_after, now()) + CAST(COALESCE((q.retention_minutes * 60)::text, defaults.keep_until, '14 days') as interval)
      END as keep_until,
    COALESCE("retryLimit", q.retry_limit, defaults.retry_limit, 2),
    CASE
      WHEN COALESCE("retryBackoff", q.retry_backoff, defaults.retry_backoff, false)
        THEN GREATEST(COALESCE("retryDelay", q.retry_delay, defaults.retry_delay), 1)
      ELSE COALESCE("retryDelay", q.retry_delay, defaults.retry_delay, 0)
      END as retry_delay,
    COALESCE("retryBackoff", q.retry_backoff, defaults.retry_backoff, false) as retry_backoff,
    q.policy
  FROM (
    SELECT *,
      CASE
        WHEN right("startAfter", 1) = 'Z' THEN CAST("startAfter" as timestamp with time zone)
        ELSE now() + CAST(COALESCE("startAfter",'0') as interval)
        END as start_after
    FROM json_to_recordset($1) as x (
      id uuid, name text, priority integer, data jsonb, "startAfter" text, "retryLimit" integer, "retryDelay" integer,
      "retryBackoff" boolean, "singletonKey" text, "singletonSeconds" integer, "expireInSeconds" integer,
      "keepUntil" timestamp with time zone, "deadLetter" text
    )
  ) j
  JOIN ${s}.queue q ON j.name = q.name,
    defaults
  ON CONFLICT DO NOTHING
  RETURNING id`)

/** pg-boss 11's insertJobs (queue defaults on the queue row, keep_until from retention_seconds): $1 only. */
const insertJobsV11Sql = (s: string, v: number) => `
  INSERT INTO ${s}.job (id, name, data, priority, start_after, singleton_key, singleton_on, expire_seconds, deletion_seconds, keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max, policy, dead_letter${hasHeartbeat(v) ? ', heartbeat_seconds' : ''})
  SELECT
    COALESCE(id, gen_random_uuid()) as id,
    q.name as name,
    data,
    COALESCE(priority, 0) as priority,
    j.start_after,
    "singletonKey",
    CASE
      WHEN "singletonSeconds" IS NOT NULL THEN 'epoch'::timestamp + '1s'::interval * ("singletonSeconds" * floor(( date_part('epoch', now()) + COALESCE("singletonOffset",0)) / "singletonSeconds" ))
      ELSE NULL
      END as singleton_on,
    COALESCE("expireInSeconds", q.expire_seconds) as expire_seconds,
    COALESCE("deleteAfterSeconds", q.deletion_seconds) as deletion_seconds,
    j.start_after + (COALESCE("retentionSeconds", q.retention_seconds) * interval '1s') as keep_until,
    COALESCE("retryLimit", q.retry_limit) as retry_limit,
    COALESCE("retryDelay", q.retry_delay) as retry_delay,
    COALESCE("retryBackoff", q.retry_backoff, false) as retry_backoff,
    COALESCE("retryDelayMax", q.retry_delay_max) as retry_delay_max,
    q.policy,
    q.dead_letter${hasHeartbeat(v) ? ',\n    q.heartbeat_seconds' : ''}
  FROM (
    SELECT *,
      CASE
        WHEN right("startAfter", 1) = 'Z' THEN CAST("startAfter" as timestamp with time zone)
        ELSE now() + CAST(COALESCE("startAfter",'0') as interval)
        END as start_after
    FROM json_to_recordset($1::json) as x (
      id uuid, name text, priority integer, data jsonb, "startAfter" text, "retryLimit" integer, "retryDelay" integer,
      "retryDelayMax" integer, "retryBackoff" boolean, "singletonKey" text, "singletonSeconds" integer, "singletonOffset" integer,
      "expireInSeconds" integer, "deleteAfterSeconds" integer, "retentionSeconds" integer
    )
  ) j
  JOIN ${s}.queue q ON q.name = j.name
  ON CONFLICT DO NOTHING
  RETURNING id`

/** plans.fetchNextJob({includeMetadata, priority}), plus `expire_in` set when the consumer asks for a lease length ($3). */
export const fetchSql = (s: string, v: number) => `
  WITH next as (
    SELECT id, singleton_key, policy
    FROM ${s}.job
    WHERE name = $1
      AND state < 'active'
      AND start_after < now()${hasBlocked(v) ? '\n      AND NOT blocked' : ''}
    ORDER BY priority desc, created_on, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), grouped as (
    SELECT
      n.id,
      n.policy as grouped_policy,
      row_number() OVER (
        PARTITION BY CASE
          WHEN $2 > 1 AND n.policy in ('singleton', 'stately') THEN n.singleton_key
          ELSE n.id::text
        END
      ) as row_number
    FROM next n
  )
  UPDATE ${s}.job j SET
    state = 'active',
    started_on = now(),
    retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END,
    ${isV11(v) ? 'expire_seconds = COALESCE(ceil(extract(epoch FROM $3::interval))::int, expire_seconds)' : 'expire_in = COALESCE($3::interval, expire_in)'}${hasHeartbeat(v) ? ',\n    heartbeat_on = now()' : ''}
  FROM grouped
  WHERE name = $1 AND j.id = grouped.id
    AND (
      (grouped.grouped_policy IN ('singleton', 'stately') AND grouped.row_number = 1)
      OR COALESCE(grouped.grouped_policy, '') NOT IN ('singleton', 'stately')
    )
  RETURNING ${jobColumns(v, 'j.')}`

/** plans.completeJobs. */
export const completeSql = (s: string) => `
  WITH results AS (
    UPDATE ${s}.job
    SET completed_on = now(), state = 'completed', output = $3::jsonb
    WHERE name = $1 AND id IN (SELECT UNNEST($2::uuid[])) AND state = 'active'
    RETURNING *
  )
  SELECT COUNT(*) FROM results`

/** A plain hand-back: the job waits again as it was; its next fetch counts one more attempt. */
export const returnSql = (s: string) => `
  UPDATE ${s}.job SET
    state = CASE WHEN retry_count > 0 THEN 'retry'::${s}.job_state ELSE 'created'::${s}.job_state END,
    start_after = now() + $3::interval
  WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`

/** No retries left, so the library's fail records it as failed (and copies it to its dead-letter queue). */
export const exhaustSql = (s: string) =>
  `UPDATE ${s}.job SET retry_limit = retry_count WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`

export const delayRetrySql = (s: string) =>
  `UPDATE ${s}.job SET start_after = now() + $3::interval WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'retry'`

export const extendSql = (s: string, v: number) =>
  `UPDATE ${s}.job SET ${isV11(v) ? "expire_seconds = ceil(extract(epoch FROM (now() - started_on) + $3::interval))::int" : 'expire_in = (now() - started_on) + $3::interval'}${hasHeartbeat(v) ? ', heartbeat_on = now()' : ''} WHERE name = $1 AND id = $2 AND state = 'active'`

/** plans.failJobsById. */
export const failByIdSql = (s: string, v: number) =>
  failJobsSql(s, v, "name = $1 AND id IN (SELECT UNNEST($2::uuid[])) AND state < 'completed'", '$3::jsonb')

/** plans.failJobsByTimeout, for one queue (the library's maintenance does every queue). */
export const failByTimeoutSql = (s: string, v: number) => isV11(v)
  ? failJobsSql(s, v, "name = $1 AND state = 'active' AND (started_on + expire_seconds * interval '1s') < now()", '\'{ "value": { "message": "job timed out" } }\'::jsonb')
  : failJobsSql(s, v, "name = $1 AND state = 'active' AND (started_on + expire_in) < now()", '\'{ "value": { "message": "job failed by timeout in active state" } }\'::jsonb')

const FAIL_COLUMNS = 'id, name, priority, data, state, retry_limit, retry_count, retry_delay, retry_backoff, start_after, started_on, singleton_key, singleton_on, expire_in, created_on, completed_on, keep_until, dead_letter, policy, output'

/** plans.failJobs: retry while retries are left (with its delay/backoff), else failed, plus the dead-letter copy. */
function failJobsSql(s: string, v: number, where: string, output: string): string {
  if (v >= 27) return failJobsV12Sql(s, v, where, output)
  if (isV11(v)) return failJobsV11Sql(s, where, output)
  return `
  WITH deleted_jobs AS (
    DELETE FROM ${s}.job WHERE ${where} RETURNING *
  ),
  retried_jobs AS (
    INSERT INTO ${s}.job (${FAIL_COLUMNS})
    SELECT id, name, priority, data,
      CASE WHEN retry_count < retry_limit THEN 'retry'::${s}.job_state ELSE 'failed'::${s}.job_state END as state,
      retry_limit, retry_count, retry_delay, retry_backoff,
      CASE
        WHEN retry_count = retry_limit THEN start_after
        WHEN NOT retry_backoff THEN now() + retry_delay * interval '1'
        ELSE now() + (
              retry_delay * 2 ^ LEAST(16, retry_count + 1) / 2 +
              retry_delay * 2 ^ LEAST(16, retry_count + 1) / 2 * random()
          ) * interval '1'
        END as start_after,
      started_on, singleton_key, singleton_on, expire_in, created_on,
      CASE WHEN retry_count < retry_limit THEN NULL ELSE now() END as completed_on,
      keep_until, dead_letter, policy, ${output}
    FROM deleted_jobs
    ON CONFLICT DO NOTHING
    RETURNING *
  ),
  failed_jobs as (
    INSERT INTO ${s}.job (${FAIL_COLUMNS})
    SELECT id, name, priority, data, 'failed'::${s}.job_state as state,
      retry_limit, retry_count, retry_delay, retry_backoff, start_after, started_on, singleton_key, singleton_on,
      expire_in, created_on, now() as completed_on, keep_until, dead_letter, policy, ${output}
    FROM deleted_jobs
    WHERE id NOT IN (SELECT id from retried_jobs)
    RETURNING *
  ),
  results as (
    SELECT * FROM retried_jobs
    UNION ALL
    SELECT * FROM failed_jobs
  ),
  dlq_jobs as (
    INSERT INTO ${s}.job (name, data, output, retry_limit, keep_until)
    SELECT dead_letter, data, output, retry_limit, keep_until + (keep_until - start_after)
    FROM results
    WHERE state = 'failed' AND dead_letter IS NOT NULL AND NOT name = dead_letter
  )
  SELECT COUNT(*) FROM results`
}

/** plans.retryJobs (failed → retry with one more allowed), for given ids or the first $3 failed. */
export const retryFailedSql = (s: string) => `
  WITH results as (
    UPDATE ${s}.job SET state = 'retry', retry_limit = retry_limit + 1
    WHERE name = $1 AND state = 'failed' AND id IN (
      SELECT id FROM ${s}.job WHERE name = $1 AND state = 'failed' AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY created_on LIMIT $3
    )
    RETURNING 1
  )
  SELECT COUNT(*)::int AS n FROM results`

/** A delayed job run now: start_after = now(), as pg-boss's own send with startAfter now would have it (a job blocked by its dependencies stays). */
export const promoteDelayedSql = (s: string) => `
  WITH results as (
    UPDATE ${s}.job SET start_after = now()
    WHERE name = $1 AND state IN ('created', 'retry') AND start_after > now() AND id IN (
      SELECT id FROM ${s}.job WHERE name = $1 AND state IN ('created', 'retry') AND start_after > now() AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY start_after LIMIT $3
    )
    RETURNING 1
  )
  SELECT COUNT(*)::int AS n FROM results`

/** plans.resumeJobs (cancelled → created), for given ids or the first $3 cancelled. */
export const resumeCancelledSql = (s: string) => `
  WITH results as (
    UPDATE ${s}.job SET completed_on = NULL, state = 'created'
    WHERE name = $1 AND state = 'cancelled' AND id IN (
      SELECT id FROM ${s}.job WHERE name = $1 AND state = 'cancelled' AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY created_on LIMIT $3
    )
    RETURNING 1
  )
  SELECT COUNT(*)::int AS n FROM results`

export const purgeSql = (s: string, v: number, state: string) =>
  `WITH d AS (DELETE FROM ${s}.job WHERE name = $1 AND ${stateWhere(v)[state]} RETURNING 1) SELECT count(*)::int AS n FROM d`

/** Named jobs of one state: $1 the queue, $2 their ids. */
export const removeSql = (s: string, v: number, state: string) =>
  `WITH d AS (DELETE FROM ${s}.job WHERE name = $1 AND id = ANY($2::uuid[]) AND ${stateWhere(v)[state]} RETURNING 1) SELECT count(*)::int AS n FROM d`

const FAIL_COLUMNS_V11 = 'id, name, priority, data, state, retry_limit, retry_count, retry_delay, retry_backoff, retry_delay_max, start_after, started_on, singleton_key, singleton_on, expire_seconds, deletion_seconds, created_on, completed_on, keep_until, policy, output, dead_letter'

/** pg-boss 11's failJobs: backoff capped by retry_delay_max, the dead-letter copy with that queue's settings. */
function failJobsV11Sql(s: string, where: string, output: string): string {
  return `
  WITH deleted_jobs AS (
    DELETE FROM ${s}.job WHERE ${where} RETURNING *
  ),
  retried_jobs AS (
    INSERT INTO ${s}.job (${FAIL_COLUMNS_V11})
    SELECT id, name, priority, data,
      CASE WHEN retry_count < retry_limit THEN 'retry'::${s}.job_state ELSE 'failed'::${s}.job_state END as state,
      retry_limit, retry_count, retry_delay, retry_backoff, retry_delay_max,
      CASE WHEN retry_count = retry_limit THEN start_after
           WHEN NOT retry_backoff THEN now() + retry_delay * interval '1'
           ELSE now() + LEAST(
             retry_delay_max,
             retry_delay + (
              2 ^ LEAST(16, retry_count + 1) / 2 +
              2 ^ LEAST(16, retry_count + 1) / 2 * random()
             )
           ) * interval '1s'
      END as start_after,
      started_on, singleton_key, singleton_on, expire_seconds, deletion_seconds, created_on,
      CASE WHEN retry_count < retry_limit THEN NULL ELSE now() END as completed_on,
      keep_until, policy, ${output}, dead_letter
    FROM deleted_jobs
    ON CONFLICT DO NOTHING
    RETURNING *
  ),
  failed_jobs as (
    INSERT INTO ${s}.job (${FAIL_COLUMNS_V11})
    SELECT id, name, priority, data, 'failed'::${s}.job_state as state,
      retry_limit, retry_count, retry_delay, retry_backoff, retry_delay_max, start_after, started_on, singleton_key, singleton_on,
      expire_seconds, deletion_seconds, created_on, now() as completed_on, keep_until, policy, ${output}, dead_letter
    FROM deleted_jobs
    WHERE id NOT IN (SELECT id from retried_jobs)
    RETURNING *
  ),
  results as (
    SELECT * FROM retried_jobs
    UNION ALL
    SELECT * FROM failed_jobs
  ),
  dlq_jobs as (
    INSERT INTO ${s}.job (name, data, output, retry_limit, retry_backoff, retry_delay, keep_until, deletion_seconds)
    SELECT r.dead_letter, data, output, q.retry_limit, q.retry_backoff, q.retry_delay, now() + q.retention_seconds * interval '1s', q.deletion_seconds
    FROM results r
      JOIN ${s}.queue q ON q.name = r.dead_letter
    WHERE state = 'failed'
  )
  SELECT COUNT(*) FROM results`
}

/**
 * pg-boss 12's failJobs: its backoff (GREATEST(retry_delay, 1) doubling, capped), heartbeat_on
 * cleared; the row is copied whole, as its column list grows by minor version (groups, heartbeats,
 * dependencies, lineage, trace context). The dead-letter copy keeps data, key and group.
 */
function failJobsV12Sql(s: string, v: number, where: string, output: string): string {
  const copy = (state: string, startAfter: string, completedOn: string) =>
    `(jsonb_populate_record(null::${s}.job, to_jsonb(d) || jsonb_build_object('state', ${state}, 'start_after', ${startAfter}, 'completed_on', ${completedOn}, 'output', ${output}, 'heartbeat_on', null))).*`
  return `
  WITH deleted_jobs AS (
    DELETE FROM ${s}.job WHERE ${where} RETURNING *
  ),
  retried_jobs AS (
    INSERT INTO ${s}.job
    SELECT ${copy(
      "CASE WHEN retry_count < retry_limit THEN 'retry' ELSE 'failed' END",
      `CASE WHEN retry_count = retry_limit THEN start_after
           WHEN NOT retry_backoff THEN now() + retry_delay * interval '1'
           ELSE now() + LEAST(
             retry_delay_max,
             GREATEST(retry_delay, 1) * (
              2 ^ LEAST(16, retry_count + 1) / 2 +
              2 ^ LEAST(16, retry_count + 1) / 2 * random()
             )
           ) * interval '1s'
      END`,
      'CASE WHEN retry_count < retry_limit THEN NULL ELSE now() END',
    )}
    FROM deleted_jobs d
    ON CONFLICT DO NOTHING
    RETURNING *
  ),
  failed_jobs as (
    INSERT INTO ${s}.job
    SELECT ${copy("'failed'", 'start_after', 'now()')}
    FROM deleted_jobs d
    WHERE id NOT IN (SELECT id from retried_jobs)
    RETURNING *
  ),
  results as (
    SELECT * FROM retried_jobs
    UNION ALL
    SELECT * FROM failed_jobs
  ),
  dlq_jobs as (
    INSERT INTO ${s}.job (name, priority, data, retry_limit, retry_backoff, retry_delay, start_after, created_on, keep_until, deletion_seconds,
      expire_seconds, singleton_key, group_id, group_tier${hasHeartbeat(v) ? ', heartbeat_seconds' : ''})
    SELECT r.dead_letter, r.priority, r.data, q.retry_limit, q.retry_backoff, q.retry_delay, now(), now(),
      now() + q.retention_seconds * interval '1s', q.deletion_seconds, q.expire_seconds, r.singleton_key, r.group_id, r.group_tier${hasHeartbeat(v) ? ', q.heartbeat_seconds' : ''}
    FROM results r
      JOIN ${s}.queue q ON q.name = r.dead_letter
    WHERE state = 'failed'
  )
  SELECT COUNT(*) FROM results`
}
