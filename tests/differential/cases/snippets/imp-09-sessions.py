from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
session = boto3.Session()
@app.route('/')
def index():
    session.client('s3').list_buckets()
    boto3.session.Session().client('sns').list_topics()
    import botocore.session
    return botocore.session.get_session().create_client('sqs').list_queues()
