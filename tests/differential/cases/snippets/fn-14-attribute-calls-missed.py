from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import types
ns = types.SimpleNamespace(make=lambda: boto3.client('s3'))
class Repo:
    @staticmethod
    def fetch():
        return boto3.client('dynamodb').scan(TableName='t')
@app.route('/')
def index():
    Repo.fetch()
    return ns.make().list_buckets()
