from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.resource('dynamodb')
table = ddb.Table('t')
@app.route('/')
def index():
    table.put_item(Item={})
    boto3.resource('s3').Bucket('b').objects.all()
    return table.meta.client.get_item(TableName='t', Key={})
