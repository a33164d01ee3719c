from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.client('dynamodb')
@app.route('/')
def index():
    ddb.scann(TableName='t')
    ddb.close()
    ddb.meta.region_name
    return ddb.exceptions.ResourceNotFoundException
