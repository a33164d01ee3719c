from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def helper():
    def inner():
        return 1
    return inner()
@app.lambda_function()
def handler(event, context):
    return helper()
