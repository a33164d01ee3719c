from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import functools
def noop(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k)
    return wrapper
@noop
@app.route('/a')
def a():
    return boto3.client('s3').list_buckets()
@app.route('/b')
@noop
def b():
    return boto3.client('sqs').list_queues()
