from chalice import Chalice
import boto3
app = Chalice(app_name="snip")
@app.route("/")
def index():
    return boto3.client("s3").list_buckets()
