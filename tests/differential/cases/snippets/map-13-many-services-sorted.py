from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.route('/')
def index():
    boto3.client('sts').get_caller_identity()
    boto3.client('cloudformation').describe_stacks()
    boto3.client('ec2').describe_instances()
    boto3.client('iam').list_roles()
    boto3.client('logs').put_log_events(logGroupName='g', logStreamName='s', logEvents=[])
    return boto3.client('textract').detect_document_text(Document={})
