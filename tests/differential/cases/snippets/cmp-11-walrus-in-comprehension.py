# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    return [y := boto3.client('s3').list_buckets() for _ in range(1)], y
