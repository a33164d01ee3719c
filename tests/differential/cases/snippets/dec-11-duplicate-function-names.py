from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.lambda_function(name='same')
def one(e, c):
    return boto3.client('s3').list_buckets()
@app.lambda_function(name='same')
def two(e, c):
    return boto3.client('sqs').list_queues()
