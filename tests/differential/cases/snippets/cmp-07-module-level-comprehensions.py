# differential: python-versions
from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.client('dynamodb')
if __name__ == '__main__':
    [ddb.describe_table(TableName=t) for t in ['a']]
    {ddb.scan(TableName=t) for t in ['a']}
    list(ddb.query(TableName=t) for t in ['a'])
@app.route('/')
def index():
    return None
