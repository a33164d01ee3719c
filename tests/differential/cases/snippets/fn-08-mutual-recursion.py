from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def ping(n):
    boto3.client('s3').list_buckets()
    return pong(n)
def pong(n):
    boto3.client('sqs').list_queues()
    return ping(n)
@app.route('/')
def index():
    return ping(1)
