from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
_client = None
def client():
    global _client
    if _client is None:
        _client = boto3.client('dynamodb')
    return _client
@app.route('/')
def index():
    return client().get_item(TableName='t', Key={})
