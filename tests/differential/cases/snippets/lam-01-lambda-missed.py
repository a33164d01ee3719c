from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
get = lambda: boto3.client('s3')
@app.route('/')
def index():
    f = lambda: boto3.client('sqs').list_queues()
    f()
    return get().list_buckets()
