from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import os
@app.route('/')
def index():
    c = boto3.client('s3') if os.environ.get('X') else None
    return c.list_buckets()
