from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def describe(c):
    return c.describe_stream(StreamName='s')
@app.route('/')
def index():
    describe(boto3.client('kinesis'))
    return describe(boto3.client('dynamodbstreams'))
