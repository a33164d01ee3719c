from chalice import Chalice, Response
import boto3
import urllib.parse

app = Chalice(app_name='chalice-sample')
dynamo_resource = boto3.resource('dynamodb')

TABLE_NAME = 'Thread'


@app.route('/threads', methods=['GET'])
def get_threads():
    # テーブル内のデータを全件取得する
    items = dynamo_resource.Table(TABLE_NAME).scan()

    return Response(body=items['Items'],
                    status_code=200,
                    headers={'Content-Type': 'application/json'})


@app.route('/threads/{forum_name_url}', methods=['GET'])
def get_forum_threads(forum_name_url):
    # パーティションキー ForumName を指定して取得する
    forum_name = urllib.parse.unquote(forum_name_url)
    items = dynamo_resource.Table(TABLE_NAME).query(KeyConditions={
        'ForumName': {
            'AttributeValueList': [
                forum_name
            ],
            'ComparisonOperator': 'EQ'
        }
    })

    return Response(body=items['Items'],
                    status_code=200,
                    headers={'Content-Type': 'application/json'})
