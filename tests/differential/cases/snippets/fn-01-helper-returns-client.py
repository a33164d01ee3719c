from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def get_client():
    return boto3.client('secretsmanager')
@app.route('/')
def index():
    return get_client().get_secret_value(SecretId='s')
