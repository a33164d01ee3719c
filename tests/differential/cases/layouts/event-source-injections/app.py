import boto3
from chalice import Chalice
app = Chalice(app_name='layout')
app.experimental_feature_flags.update(['WEBSOCKETS'])
@app.on_dynamodb_record(stream_arn='arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2020')
def ddb_handler(event):
    return boto3.client('s3').list_buckets()
@app.on_sqs_message(queue='q1')
def first_queue(event):
    pass
@app.on_sqs_message(queue='q2', name='second_queue')
def second(event):
    pass
@app.on_kinesis_record(stream='stream')
def kinesis_handler(event):
    pass
@app.on_ws_connect()
def connect(event):
    pass
@app.on_ws_message()
def message(event):
    return boto3.client('apigatewaymanagementapi').post_to_connection(ConnectionId='c', Data=b'')
