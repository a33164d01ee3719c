from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
c = None
def init():
    global c
    c = boto3.client('s3')
init()
@app.route('/')
def index():
    return c.list_buckets()
