from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client('stepfunctions').start_execution(stateMachineArn='a')
    boto3.client('efs').describe_file_systems()
    boto3.client('elbv2').describe_load_balancers()
    boto3.client('iot-data').publish(topic='t')
    return boto3.client('dynamodbstreams').list_streams()
