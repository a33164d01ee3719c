from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
class Store:
    def __init__(self):
        self.c = boto3.client('dynamodb')
    def get(self):
        return self.c.get_item(TableName='t', Key={})
@app.route('/')
def index():
    return Store().get()
