from chalice import Chalice
import boto3 as b
app = Chalice(app_name='snip')
@app.route('/')
def index():
    return b.client('s3').list_buckets()
