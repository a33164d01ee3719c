# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    return {k: s3.head_object(Bucket='b', Key=k) for k in ['a']}
