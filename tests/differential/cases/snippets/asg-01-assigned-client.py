from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    c = boto3.client('s3')
    resp = c.get_object(Bucket='b', Key='k')
    return resp['Body'].read()
