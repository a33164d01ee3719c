from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.client('dynamodb')
if __name__ == '__main__':
    ddb.create_table(TableName='t', KeySchema=[], AttributeDefinitions=[])
@app.route('/')
def index():
    return ddb.scan(TableName='t')
