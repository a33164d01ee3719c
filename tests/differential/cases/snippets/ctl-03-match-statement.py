from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/{cmd}')
def index(cmd):
    match cmd:
        case 'a':
            return boto3.client('s3').list_buckets()
        case {'k': v, **rest}:
            return boto3.client('sqs').list_queues()
        case [x, *others] if x:
            return boto3.client('sns').list_topics()
        case _:
            return None
