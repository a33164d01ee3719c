from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
def make():
    return boto3.client('cloudwatch')
cw = make()
@app.route('/')
def index():
    make().put_metric_data(Namespace='n', MetricData=[])
    return cw.get_metric_data(MetricDataQueries=[], StartTime=0, EndTime=0)
