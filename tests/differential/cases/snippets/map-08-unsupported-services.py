from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client('bedrock-runtime').invoke_model(modelId='m', body=b'')
    boto3.client('sesv2').send_email(Content={})
    boto3.client('scheduler').create_schedule(Name='n')
    return boto3.client('s3').list_buckets()
