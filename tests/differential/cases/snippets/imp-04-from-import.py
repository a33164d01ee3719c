from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
from boto3 import client
from boto3.session import Session
@app.route('/')
def index():
    client('s3').list_buckets()
    return Session().client('sqs').list_queues()
