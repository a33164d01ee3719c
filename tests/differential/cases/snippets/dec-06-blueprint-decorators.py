from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
from chalice import Blueprint
bp = Blueprint(__name__)
@bp.route('/bp')
def bp_view():
    return boto3.client('s3').list_buckets()
@bp.lambda_function(name='bp_fn')
def bp_fn(e, c):
    return boto3.client('sqs').list_queues()
app.register_blueprint(bp, name_prefix='pre_')
