from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    for c in [boto3.client('s3'), boto3.client('sqs')]:
        c.list_buckets()
    return None
