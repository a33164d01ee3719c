from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import os
if not os.environ.get('NEVER_SET_IN_TESTS'):
    @app.route('/')
    def index():
        return boto3.client('s3').list_buckets()
