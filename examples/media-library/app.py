"""A media library: uploads to S3, metadata in DynamoDB, thumbnails by SQS."""
import json

import boto3
from chalice import Chalice

from chalicelib import storage
from chalicelib.catalog import Catalog

app = Chalice(app_name='media-library')

# Clients created the way chalice's analyzer tracks them.
sqs = boto3.client('sqs')
lambda_client = boto3.client('lambda')

QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/thumbnails'
catalog = Catalog('media')


@app.route('/media', methods=['GET'])
def list_media():
    return {'items': catalog.all_items()}


@app.route('/media/{key}', methods=['PUT'])
def put_media(key):
    body = app.current_request.raw_body
    storage.save(key, body)
    catalog.add(key, len(body))
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({'key': key}))
    return {'key': key}


@app.route('/media/{key}/link', methods=['GET'])
def media_link(key):
    return {'url': storage.link(key)}


@app.on_sqs_message(queue='thumbnails')
def make_thumbnail(event):
    for record in event:
        key = json.loads(record.body)['key']
        # lambda.invoke: chalice maps it to no action at all.
        lambda_client.invoke(FunctionName='resize', Payload=json.dumps({'key': key}))


@app.schedule('rate(1 day)')
def cleanup(event):
    storage.delete_all(prefix='tmp/')
