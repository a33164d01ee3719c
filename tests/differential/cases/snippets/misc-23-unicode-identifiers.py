from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
клиент = boto3.client('s3')
@app.route('/')
def índex():
    return клиент.list_buckets()
