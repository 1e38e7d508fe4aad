# A tiny Celery app for the interop tests (Debian's python3-celery, run with /usr/bin/python3).
# QCTL_BROKER is the AMQP URL; the task writes a file so the test can see it ran.
import json
import os
import sys

from celery import Celery

app = Celery('qctl', broker=os.environ['QCTL_BROKER'])
app.conf.update(
    task_serializer='json',
    accept_content=['json'],
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name='qctl.write_file')
def write_file(path, text, suffix=''):
    with open(path, 'w') as f:
        f.write(text + suffix)
    return True


if __name__ == '__main__':
    # python3 celery_app.py send QUEUE PATH TEXT: sends one task the way an application would
    _, _, queue, path, text = sys.argv
    result = app.send_task('qctl.write_file', args=[path, text], kwargs={'suffix': '!'}, queue=queue)
    print(json.dumps({'id': result.id}))
