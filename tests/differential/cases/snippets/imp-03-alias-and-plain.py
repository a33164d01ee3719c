from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import boto3 as b
@app.route('/')
def index():
    b.client('s3').list_buckets()
    return boto3.client('sqs').list_queues()
