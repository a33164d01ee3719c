from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import os
@app.route('/')
def index():
    boto3.client(os.environ['SVC']).list_things()
    boto3.client(f"s{3}").list_buckets()
    boto3.client('s' + '3').list_objects()
    return None
