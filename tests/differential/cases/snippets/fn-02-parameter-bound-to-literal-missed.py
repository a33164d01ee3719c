from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def get_client(name):
    return boto3.client(name)
@app.route('/')
def index():
    return get_client('s3').list_buckets()
