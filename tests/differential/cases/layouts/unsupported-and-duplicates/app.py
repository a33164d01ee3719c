import boto3
from chalice import Chalice
app = Chalice(app_name='layout')
s3 = boto3.client('s3')
@app.route('/')
def index():
    s3.get_object(Bucket='b', Key='k')
    s3.head_object(Bucket='b', Key='k')
    s3.upload_file('f', 'b', 'k')
    s3.copy({}, 'b', 'k')
    boto3.client('bedrock-runtime').invoke_model(modelId='m', body=b'')
    return boto3.client('sesv2').send_email(Content={})
