from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
ddb = boto3.client('dynamodb')
if __name__ == '__main__':
    ddb.list_tables()
