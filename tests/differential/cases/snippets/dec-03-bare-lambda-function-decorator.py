from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.lambda_function
def handler(event, context):
    return boto3.client('s3').list_buckets()
@app.route('/')
def index():
    return None
