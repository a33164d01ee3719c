from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    a = b = boto3.client('sqs')
    a.send_message(QueueUrl='u', MessageBody='m')
    return b.receive_message(QueueUrl='u')
