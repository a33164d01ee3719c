from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
lam = boto3.client('lambda')
@app.route('/')
def index():
    lam.invoke(FunctionName='f')
    lam.invoke_async(FunctionName='f', InvokeArgs=b'')
    return lam.invoke_with_response_stream(FunctionName='f')
