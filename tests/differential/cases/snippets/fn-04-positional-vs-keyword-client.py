from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def use(client, key):
    return client.get_object(Bucket='b', Key=key)
def use_default(client=boto3.client('sqs')):
    return client.list_queues()
@app.route('/')
def index():
    use(boto3.client('s3'), 'k')
    use(client=boto3.client('sns'), key='k')
    return use_default()
