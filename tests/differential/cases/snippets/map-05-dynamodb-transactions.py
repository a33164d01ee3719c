from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.client('dynamodb')
@app.route('/')
def index():
    ddb.transact_write_items(TransactItems=[])
    ddb.execute_statement(Statement='s')
    return ddb.batch_write_item(RequestItems={})
