from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client(b's3').list_buckets()
    return boto3.client('s' 'qs').list_queues()
