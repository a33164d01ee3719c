from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client('sns').publish_batch(TopicArn='t', PublishBatchRequestEntries=[])
    boto3.client('sqs').send_message_batch(QueueUrl='u', Entries=[])
    return boto3.client('sqs').delete_message_batch(QueueUrl='u', Entries=[])
