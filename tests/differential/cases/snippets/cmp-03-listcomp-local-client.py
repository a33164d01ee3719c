# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    c = boto3.client('sqs')
    return [c.send_message(QueueUrl=u, MessageBody='m') for u in ['u']]
