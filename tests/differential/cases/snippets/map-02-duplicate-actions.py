from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    s3.get_object(Bucket='b', Key='k')
    s3.head_object(Bucket='b', Key='k')
    s3.download_file('b', 'k', '/tmp/f')
    s3.download_fileobj('b', 'k', None)
    s3.list_objects(Bucket='b')
    s3.list_objects_v2(Bucket='b')
