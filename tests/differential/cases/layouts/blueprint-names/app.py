import boto3
from chalice import Chalice, Blueprint
bp = Blueprint(__name__)
app = Chalice(app_name='layout')
@bp.lambda_function()
def job(event, context):
    return boto3.client('sqs').list_queues()
@bp.on_sqs_message(queue='q')
def consume(event):
    pass
app.register_blueprint(bp, name_prefix='bp_')
@app.route('/')
def index():
    return boto3.client('s3').list_buckets()
