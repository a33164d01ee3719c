from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def a():
    return boto3.client('s3').list_buckets()
HANDLERS = {'a': a}
@app.route('/')
def index():
    return HANDLERS['a']()
