from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def handler(event, context):
    return boto3.client('s3').list_buckets()
app.lambda_function(name='imperative')(handler)
@app.route('/')
def index():
    return None
