from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import functools
make_s3 = functools.partial(boto3.client, 's3')
@app.route('/')
def index():
    return make_s3().list_buckets()
