from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def use(c, /, d):
    return d.list_queues()
@app.route('/')
def index():
    return use(boto3.client('s3'), boto3.client('sqs'))
