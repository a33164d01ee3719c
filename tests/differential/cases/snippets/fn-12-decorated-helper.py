from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
import functools
@functools.lru_cache()
def client():
    return boto3.client('kms')
@app.route('/')
def index():
    return client().decrypt(CiphertextBlob=b'')
