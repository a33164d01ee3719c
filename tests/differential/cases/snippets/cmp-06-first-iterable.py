# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    return [b['Name'] for b in s3.list_buckets()['Buckets']]
