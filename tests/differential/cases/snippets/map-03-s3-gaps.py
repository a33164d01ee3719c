from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    s3.delete_objects(Bucket='b', Delete={})
    s3.copy_object(Bucket='b', Key='k', CopySource='x')
    s3.head_bucket(Bucket='b')
    s3.list_object_versions(Bucket='b')
    s3.get_bucket_cors(Bucket='b')
