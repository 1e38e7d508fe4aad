# Drives RQ's own API for queuectl's interop tests. QCTL_REDIS_URL picks the db.
#   python3 rq_helper.py setup QUEUE       jobs in every state: failed and finished (a real burst
#                                          worker ran them), then waiting, scheduled, deferred
#   python3 rq_helper.py report QUEUE      what RQ's API says about QUEUE, as JSON
#   python3 rq_helper.py enqueue QUEUE FUNC ARG...   one job, prints its id
#   python3 rq_helper.py evil QUEUE PATH   a job whose pickled data would create PATH if unpickled
import json
import os
import pickle
import sys
import zlib
from datetime import timedelta

from redis import Redis
from rq import Queue, Worker
from rq.job import Job

import qctl_rq_jobs

conn = Redis.from_url(os.environ['QCTL_REDIS_URL'])


class Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}',))


def report(name):
    q = Queue(name, connection=conn)
    failed = q.failed_job_registry
    jobs = {}
    for job_id in q.job_ids + failed.get_job_ids() + q.finished_job_registry.get_job_ids() + q.scheduled_job_registry.get_job_ids() + q.deferred_job_registry.get_job_ids() + q.started_job_registry.get_job_ids():
        job = Job.fetch(job_id, connection=conn)
        result = job.latest_result()
        jobs[job_id] = {
            'status': job.get_status(),
            'func': job.func_name,
            'description': job.description,
            'origin': job.origin,
            'enqueued_at': job.enqueued_at.isoformat() if job.enqueued_at else None,
            'exc': result.exc_string if result is not None and result.exc_string else None,
            'data_bytes': len(conn.hget(job.key, 'data') or b''),
        }
    return {
        'count': q.count,
        'job_ids': q.job_ids,
        'started': q.started_job_registry.count,
        'finished': q.finished_job_registry.count,
        'failed': failed.count,
        'deferred': q.deferred_job_registry.count,
        'scheduled': q.scheduled_job_registry.count,
        'canceled': q.canceled_job_registry.count,
        'workers': len(Worker.all(queue=q)),
        'jobs': jobs,
        'queues': [x.name for x in Queue.all(connection=conn)],
    }


cmd, name = sys.argv[1], sys.argv[2]
q = Queue(name, connection=conn)
if cmd == 'setup':
    flag = f'qctl-rq-flag-{name}'
    ids = {
        'failed': q.enqueue(qctl_rq_jobs.boom, 'kaput').id,
        'failOnce': q.enqueue(qctl_rq_jobs.fail_once, flag).id,
        'finished': q.enqueue(qctl_rq_jobs.set_key, f'qctl-rq-done-{name}', 'done').id,
    }
    Worker([q], connection=conn).work(burst=True)
    ids['waiting1'] = q.enqueue(qctl_rq_jobs.set_key, 'qctl-rq-never-1', 'a').id
    ids['waiting2'] = q.enqueue('qctl_rq_jobs.set_key', 'qctl-rq-never-2', 'b').id
    scheduled = q.enqueue_in(timedelta(hours=1), qctl_rq_jobs.set_key, 'qctl-rq-never-3', 'c')
    ids['scheduled'] = scheduled.id
    ids['deferred'] = q.enqueue(qctl_rq_jobs.set_key, 'qctl-rq-never-4', 'd', depends_on=scheduled).id
    print(json.dumps(ids))
elif cmd == 'report':
    print(json.dumps(report(name)))
elif cmd == 'enqueue':
    print(json.dumps({'id': q.enqueue(getattr(qctl_rq_jobs, sys.argv[3]), *sys.argv[4:]).id}))
elif cmd == 'evil':
    job = q.enqueue(qctl_rq_jobs.set_key, 'qctl-rq-never-5', 'e')
    conn.hset(job.key, 'data', zlib.compress(pickle.dumps(Evil(sys.argv[3]))))
    print(json.dumps({'id': job.id}))
