from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def top():
    local_only = boto3.client('s3')
    return local_only
@app.route('/')
def index():
    return 1
