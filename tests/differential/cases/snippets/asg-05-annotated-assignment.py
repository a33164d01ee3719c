from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    c: object = boto3.client('s3')
    return c.list_buckets()
