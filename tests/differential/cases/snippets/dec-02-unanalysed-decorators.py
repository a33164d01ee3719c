from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.on_cw_event({'source': ['aws.ec2']})
def cw(e):
    return boto3.client('s3').list_buckets()
@app.on_kinesis_record(stream='s')
def kin(e):
    return boto3.client('sqs').list_queues()
@app.on_dynamodb_record(stream_arn='arn:aws:dynamodb:us-east-1:1:table/t/stream/x')
def ddb(e):
    return boto3.client('sns').list_topics()
@app.middleware('all')
def mw(event, get_response):
    boto3.client('dynamodb').list_tables()
    return get_response(event)
