from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
limit: int = 3
@app.route('/')
def index():
    return boto3.client('s3').list_buckets()
