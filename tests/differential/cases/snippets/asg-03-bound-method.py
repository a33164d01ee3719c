from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
put = s3.put_object
@app.route('/')
def index():
    return put(Bucket='b', Key='k', Body=b'')
