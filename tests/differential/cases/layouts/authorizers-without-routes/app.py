import boto3
from chalice import Chalice
app = Chalice(app_name='layout')
@app.authorizer()
def auth(request):
    return boto3.client('cognito-idp').get_user(AccessToken='t')
@app.schedule('rate(5 minutes)')
def tick(event):
    return None
