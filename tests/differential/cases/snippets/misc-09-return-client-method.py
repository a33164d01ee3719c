from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def getter():
    return boto3.client('s3').list_buckets
@app.route('/')
def index():
    return getter()()
