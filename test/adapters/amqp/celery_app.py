# A tiny Celery app for the interop tests (Debian's python3-celery, run with /usr/bin/python3).
# QCTL_BROKER is the AMQP URL; the tasks write a file so the test can see they ran.
# QCTL_QUEUES (optional) is a JSON list of {name, args, exchange_type}: the queues a worker declares
# as the test declared them (a worker redeclares its queues, so their arguments must match).
import json
import os
import sys

from celery import Celery
from kombu import Exchange, Queue

app = Celery('qctl', broker=os.environ['QCTL_BROKER'])
app.conf.update(
    task_serializer='json',
    accept_content=['json'],
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
if os.environ.get('QCTL_QUEUES'):
    app.conf.task_queues = [
        Queue(q['name'], Exchange(q['name'], type=q.get('exchange_type', 'direct')), routing_key=q['name'], queue_arguments=q.get('args') or None)
        for q in json.loads(os.environ['QCTL_QUEUES'])
    ]


@app.task(name='qctl.write_file')
def write_file(path, text, suffix=''):
    # written whole, then renamed: a test that sees the file sees all of it
    with open(path + '.tmp', 'w') as f:
        f.write(text + suffix)
    os.replace(path + '.tmp', path)
    return True


@app.task(name='qctl.record', bind=True)
def record(self, path, *args, **kwargs):
    # what the worker received: the call and the request fields queuectl writes
    r = self.request
    with open(path + '.tmp', 'w') as f:
        json.dump({
            'args': [path, *args], 'kwargs': kwargs, 'id': r.id, 'retries': r.retries,
            'eta': r.eta, 'expires': r.expires, 'priority': (r.delivery_info or {}).get('priority'),
            'timelimit': r.timelimit, 'ran_at': __import__('time').time(),
        }, f)
    os.replace(path + '.tmp', path)
    return True


if __name__ == '__main__':
    # python3 celery_app.py send QUEUE PATH TEXT: sends one task the way an application would
    # python3 celery_app.py record QUEUE PATH [COUNTDOWN]: sends qctl.record(PATH, 1, 'two', flag=True)
    # python3 celery_app.py record55 QUEUE PATH COUNTDOWN: what Celery 5.5's send_task publishes for a
    # queue with native delayed delivery (celery 5.5.3 celery/app/base.py send_task: the same task
    # message, to the topic exchange celery_delayed_27, routing key = the countdown's 28 bits then
    # the queue's routing key, as kombu 5.5.4 kombu/transport/native_delayed_delivery.py's
    # calculate_routing_key writes it); Celery 5.5 cannot run here (Debian has 5.2)
    if sys.argv[1] == 'record55':
        queue, countdown = sys.argv[2], int(sys.argv[4])
        bits = '.'.join(format(countdown, '028b'))
        result = app.send_task('qctl.record', args=[sys.argv[3], 1, 'two'], kwargs={'flag': True, 'n': None}, countdown=countdown,
                               exchange=Exchange('celery_delayed_27', type='topic'), routing_key=f'{bits}.{queue}')
        print(json.dumps({'id': result.id}))
        sys.exit(0)
    if sys.argv[1] == 'record':
        countdown = float(sys.argv[4]) if len(sys.argv) > 4 else None
        result = app.send_task('qctl.record', args=[sys.argv[3], 1, 'two'], kwargs={'flag': True, 'n': None}, queue=sys.argv[2], countdown=countdown)
        print(json.dumps({'id': result.id}))
        sys.exit(0)
    _, _, queue, path, text = sys.argv
    result = app.send_task('qctl.write_file', args=[path, text], kwargs={'suffix': '!'}, queue=queue)
    print(json.dumps({'id': result.id}))
