from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
app.experimental_feature_flags.update(['WEBSOCKETS'])
@app.route('/')
def r():
    return boto3.client('s3').list_buckets()
@app.authorizer()
def auth(req):
    return boto3.client('cognito-idp').get_user(AccessToken='t')
@app.lambda_function()
def lf(e, c):
    return boto3.client('sqs').list_queues()
@app.schedule('rate(1 hour)')
def sch(e):
    return boto3.client('sns').list_topics()
@app.on_s3_event(bucket='b')
def s3e(e):
    return boto3.client('kinesis').list_streams()
@app.on_sns_message(topic='t')
def snse(e):
    return boto3.client('dynamodb').list_tables()
@app.on_ws_connect()
def wc(e):
    return boto3.client('lambda').list_functions()
@app.on_ws_message()
def wm(e):
    return boto3.client('kms').list_keys()
@app.on_ws_disconnect()
def wd(e):
    return boto3.client('ssm').get_parameter(Name='n')
