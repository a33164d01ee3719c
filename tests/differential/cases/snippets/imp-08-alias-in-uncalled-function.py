from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def never_called():
    import boto3 as aws
    return aws.client('s3')
@app.route('/')
def index():
    return boto3.client('sqs').list_queues()
