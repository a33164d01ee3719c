from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def outer():
    c = boto3.client('s3')
    def set_it():
        nonlocal c
        c = None
    return c
@app.route('/')
def index():
    return outer().list_buckets()
