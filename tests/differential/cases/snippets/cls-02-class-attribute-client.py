from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
class Store:
    client = boto3.client('s3')
@app.route('/')
def index():
    return Store.client.list_buckets()
