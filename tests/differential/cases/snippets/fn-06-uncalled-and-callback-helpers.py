from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def uncalled():
    return boto3.client('s3').list_buckets()
def callback(x):
    return boto3.client('sqs').send_message(QueueUrl=x, MessageBody='m')
@app.route('/')
def index():
    return list(map(callback, ['u']))
