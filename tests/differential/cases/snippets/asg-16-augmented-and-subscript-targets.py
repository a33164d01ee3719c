from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
clients = {}
@app.route('/')
def index():
    clients['s3'] = boto3.client('s3')
    n = 0
    n += 1
    return clients['s3'].list_buckets()
