from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    s3.upload_file('/tmp/f', 'b', 'k')
    s3.upload_fileobj(None, 'b', 'k')
    s3.copy({'Bucket': 'b', 'Key': 'k'}, 'b2', 'k2')
    return s3.put_object(Bucket='b', Key='k')
