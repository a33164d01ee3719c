from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
@app.schedule('rate(1 day)', 'nightly')
def job(event):
    return boto3.client('athena').start_query_execution(QueryString='q')
@app.lambda_function('worker')
def work(event, context):
    return boto3.client('glue').start_job_run(JobName='j')
