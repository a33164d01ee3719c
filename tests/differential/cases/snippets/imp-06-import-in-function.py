from chalice import Chalice
app = Chalice(app_name='snip')
@app.lambda_function()
def handler(event, context):
    import os, boto3
    return boto3.client('dynamodb', region_name=os.environ.get('R')).scan(TableName='t')
