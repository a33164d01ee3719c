import boto3
from chalice import Chalice
app = Chalice(app_name='layout')
ddb = boto3.client('dynamodb')
s3 = boto3.client('s3')
@app.route('/')
def index():
    return ddb.scan(TableName='t')
@app.lambda_function()
def worker(event, context):
    return s3.get_object(Bucket='b', Key='k')
