# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def helper(c):
    return [c.get_object(Bucket='b', Key=k) for k in ['a']]
@app.route('/')
def index():
    return helper(boto3.client('s3'))
