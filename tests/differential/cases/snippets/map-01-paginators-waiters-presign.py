from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    s3.get_paginator('list_objects_v2').paginate(Bucket='b')
    s3.get_waiter('object_exists').wait(Bucket='b', Key='k')
    s3.generate_presigned_url('get_object', Params={})
    return s3.can_paginate('list_objects')
