from chalice import Chalice, Response
import boto3
import urllib.parse

app = Chalice(app_name='chalice-sample')
dynamo_client = boto3.client('dynamodb')

TABLE_NAME = 'Thread'


@app.route('/threads', methods=['GET'])
def get_threads():
    items = dynamo_client.scan(TableName=TABLE_NAME)

    return Response(body=items['Items'],
                    status_code=200,
                    headers={'Content-Type': 'application/json'})


@app.route('/threads/{forum_name_url}', methods=['GET'])
def get_forum_threads(forum_name_url):
    forum_name = urllib.parse.unquote(forum_name_url)
    items = dynamo_client.query(
        TableName=TABLE_NAME,
        KeyConditions={
            'ForumName': {
                'AttributeValueList': [
                    {'S': forum_name}
                ],
                'ComparisonOperator': 'EQ'
            }
        })

    return Response(body=items['Items'],
                    status_code=200,
                    headers={'Content-Type': 'application/json'})
