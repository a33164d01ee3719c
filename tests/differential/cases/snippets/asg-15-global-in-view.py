from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
c = None
@app.route('/')
def index():
    global c
    c = boto3.client('s3')
    return c.list_buckets()
