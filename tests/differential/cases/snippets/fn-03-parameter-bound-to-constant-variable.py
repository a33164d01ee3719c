from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
SVC = 'ssm'
def get_client(name):
    return boto3.client(name)
@app.route('/')
def index():
    return get_client(SVC).get_parameter(Name='p')
