from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def use(*clients, **named):
    return clients
@app.route('/')
def index():
    args = [boto3.client('s3')]
    return use(*args, extra=boto3.client('sqs').list_queues())
