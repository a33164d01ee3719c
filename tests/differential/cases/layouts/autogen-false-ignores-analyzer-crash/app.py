import boto3 as aws
from chalice import Chalice
app = Chalice(app_name='layout')
@app.route('/')
def index():
    return aws.client('s3').list_buckets()
