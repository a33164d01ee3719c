from chalice import Chalice
app = Chalice(app_name='snip')
@app.route('/')
def index():
    import boto3 as aws
    return aws.client('s3').list_buckets()
