from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    try:
        boto3.client('s3').list_buckets()
    except* ValueError as eg:
        boto3.client('sqs').list_queues()
