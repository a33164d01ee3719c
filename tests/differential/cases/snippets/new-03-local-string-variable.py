from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    name = 'sqs'
    return boto3.client(name).get_queue_url(QueueName='q')
