from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
class helper:
    pass
def helper():
    return boto3.client('s3')
@app.route('/')
def index():
    return helper().list_buckets()
