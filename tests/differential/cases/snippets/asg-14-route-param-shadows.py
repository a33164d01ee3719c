from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/{s3}')
def index(s3):
    return s3.upper()
