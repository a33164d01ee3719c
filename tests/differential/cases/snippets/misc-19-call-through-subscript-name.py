from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
methods = [s3.list_buckets]
@app.route('/')
def index():
    return methods[0]()
