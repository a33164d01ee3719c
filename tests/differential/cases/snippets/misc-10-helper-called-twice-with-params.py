from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def scan(c, t):
    return c.scan(TableName=t)
@app.route('/a')
def a():
    return scan(boto3.client('dynamodb'), 'a')
@app.route('/b')
def b():
    return scan(boto3.client('sqs'), 'b')
