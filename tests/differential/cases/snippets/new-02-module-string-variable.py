from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
SERVICE = 'dynamodb'
ddb = boto3.client(SERVICE)
@app.route('/')
def index():
    return ddb.describe_table(TableName='t')
