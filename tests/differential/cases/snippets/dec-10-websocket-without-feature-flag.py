from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.on_ws_message()
def message(event):
    return boto3.client('s3').list_buckets()
