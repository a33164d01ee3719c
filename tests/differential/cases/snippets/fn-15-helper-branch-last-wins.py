from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import os
def get():
    if os.environ.get('A'):
        return boto3.client('s3')
    return boto3.client('sqs')
@app.route('/')
def index():
    return get().get_object(Bucket='b', Key='k')
