from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
from contextlib import closing
@app.route('/')
def index():
    with closing(boto3.client('s3')) as c:
        return c.list_buckets()
