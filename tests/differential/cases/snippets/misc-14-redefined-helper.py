from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def helper():
    return boto3.client('s3')
def helper():
    x = boto3.client('sqs')
    return x
@app.route('/')
def index():
    return helper().list_queues()
