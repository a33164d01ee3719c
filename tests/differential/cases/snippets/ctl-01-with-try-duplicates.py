from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
s3 = boto3.client('s3')
@app.route('/')
def index():
    try:
        with open('/tmp/x') as f:
            s3.get_object(Bucket='b', Key='k')
    except Exception as e:
        s3.head_object(Bucket='b', Key='k')
    finally:
        s3.download_file('b', 'k', '/tmp/x')
    while False:
        s3.delete_object(Bucket='b', Key='k')
