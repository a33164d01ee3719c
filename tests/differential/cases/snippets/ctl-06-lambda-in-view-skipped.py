from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    return sorted([1], key=lambda x: boto3.client('s3').list_buckets())
