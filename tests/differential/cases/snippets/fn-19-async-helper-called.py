from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
async def fetch():
    return boto3.client('s3').list_buckets()
@app.route('/')
def index():
    return fetch()
