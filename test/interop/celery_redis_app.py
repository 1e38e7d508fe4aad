# A tiny Celery app on Redis for queuectl's interop tests (Debian's python3-celery 5.2, run with
# /usr/bin/python3). QCTL_BROKER is the redis:// URL (its own db). Tasks write a file so a test
# can see that a real worker ran them.
#   python3 celery_redis_app.py send QUEUE      sends tasks in several states, prints their ids
#   python3 celery_redis_app.py send-one QUEUE PATH TEXT   one write_file(PATH, TEXT, suffix='!')
#   python3 celery_redis_app.py count QUEUE     the queue's length as kombu reports it
#   python3 celery_redis_app.py scheduled ID    whether the workers hold task ID (inspect().scheduled())
import json
import os
import sys

from celery import Celery

app = Celery('qctl', broker=os.environ['QCTL_BROKER'])
app.conf.update(
    task_serializer='json',
    accept_content=['json', 'pickle'],
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name='qctl.write_file')
def write_file(path, text, suffix=''):
    # written whole, then renamed: a test that sees the file sees all of it
    with open(path + '.tmp', 'w') as f:
        f.write(text + suffix)
    os.replace(path + '.tmp', path)
    return True


def count(queue):
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare(queue, passive=True).message_count
        except conn.channel_errors:
            return 0  # kombu on Redis: a queue whose lists are all empty does not "exist" passively


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'send':
        queue = sys.argv[2]
        send = lambda **kw: app.send_task('qctl.write_file', queue=queue, **kw).id
        ids = {
            'plain': send(args=['/tmp/qctl-never-1', 'hello'], kwargs={'suffix': '!'}),
            'eta': send(args=['/tmp/qctl-never-2', 'later'], countdown=3600),
            'retried': send(args=['/tmp/qctl-never-3', 'again'], retries=2),
            'priority': send(args=['/tmp/qctl-never-4', 'urgent'], priority=6),
            'pickle': send(args=['/tmp/qctl-never-5', 'pickled'], serializer='pickle'),
        }
        print(json.dumps({'ids': ids, 'count': count(queue)}))
    elif cmd == 'send-eta':
        print(json.dumps({'id': app.send_task('qctl.write_file', args=['/tmp/qctl-never-6', 'held'], queue=sys.argv[2], countdown=3600).id}))
    elif cmd == 'send-one':
        # send-one QUEUE PATH TEXT: write_file(PATH, TEXT, suffix='!')
        print(json.dumps({'id': app.send_task('qctl.write_file', args=[sys.argv[3], sys.argv[4]], kwargs={'suffix': '!'}, queue=sys.argv[2]).id}))
    elif cmd == 'count':
        print(json.dumps({'count': count(sys.argv[2])}))
    elif cmd == 'scheduled':
        replies = app.control.inspect(timeout=3).scheduled() or {}
        ids = [entry['request']['id'] for entries in replies.values() for entry in entries]
        print(json.dumps({'held': sys.argv[2] in ids, 'workers': len(replies)}))
