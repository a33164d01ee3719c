from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    getattr(s3, 'delete_object')(Bucket='b', Key='k')
    ref = s3.copy_object
    return ref
