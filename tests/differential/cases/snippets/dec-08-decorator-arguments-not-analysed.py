from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/', methods=[boto3.client('s3').list_buckets and 'GET'][:1])
def index():
    return None
