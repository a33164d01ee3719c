from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    a, b = boto3.client('s3'), boto3.client('sqs')
    a.list_buckets()
    return b.list_queues()
