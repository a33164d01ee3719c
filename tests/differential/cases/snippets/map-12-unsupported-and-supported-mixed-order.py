from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client('zzz-not-a-service').do()
    boto3.client('apigatewaymanagementapi').post_to_connection(ConnectionId='c', Data=b'')
    boto3.client('sqs').list_queues()
    return boto3.client('appsync').list_graphql_apis()
