from __future__ import annotations
import boto3
from chalice import Chalice
app = Chalice(app_name='snip')
limit: int = 3
@app.route('/')
def index():
    return boto3.client('s3').list_buckets()
