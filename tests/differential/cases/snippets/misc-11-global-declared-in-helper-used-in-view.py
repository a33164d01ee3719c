from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def setup():
    global ready
    ready = boto3.client('sns')
    return ready
@app.route('/')
def index():
    setup()
    return ready.list_topics()
