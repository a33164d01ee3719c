import boto3

def table_scan():
    return boto3.client('dynamodb').scan(TableName='t')
