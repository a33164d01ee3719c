from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    def inner():
        return boto3.client('s3').list_buckets()
    return inner()
