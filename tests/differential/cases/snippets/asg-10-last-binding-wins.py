from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import os
@app.route('/')
def index():
    if os.environ.get('X'):
        c = boto3.client('s3')
    else:
        c = boto3.client('sqs')
    return c.get_object(Bucket='b', Key='k')
