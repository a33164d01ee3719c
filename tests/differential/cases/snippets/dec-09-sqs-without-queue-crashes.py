from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.on_sqs_message()
def consume(event):
    return boto3.client('s3').list_buckets()
