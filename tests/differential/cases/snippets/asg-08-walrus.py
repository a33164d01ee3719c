from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    if (c := boto3.client('s3')) is not None:
        return c.list_buckets()
