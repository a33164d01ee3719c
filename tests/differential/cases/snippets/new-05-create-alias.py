from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
create = boto3.client
@app.route('/')
def index():
    return create('kinesis').put_record(StreamName='s', Data=b'', PartitionKey='k')
