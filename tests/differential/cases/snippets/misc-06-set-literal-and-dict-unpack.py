from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    data = {**{'a': s3.list_buckets()}, 'b': {s3.get_object(Bucket='b', Key='k')}}
    return data
