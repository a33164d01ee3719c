from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
c = boto3.client('s3')
c = None
@app.route('/')
def index():
    return c.list_buckets()
