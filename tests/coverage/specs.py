"""What each coverage fixture needs to run under moto: per service, the
resources to create first ("makers"), how to build each resource type in
the app, and the arguments of each call. Operations moto does not
implement are found by gen.py (moto_lacks) and short-circuited by the
oracle: recorded, then answered with an empty response (see
tests/oracle/README.md).

Read by gen.py. Every table here is checked against the installed boto3's
models by gen.py: describing an entry the model does not have is an error.
"""

import textwrap


class M:
    """A maker: setup code creating something in moto. It may use the
    setup's `client` (the service's boto3 client) and the variables of the
    makers it depends on; the variables in `exports` reach the app as
    environment variables."""

    def __init__(self, code, exports=(), deps=()):
        self.code = textwrap.dedent(code)
        self.exports = list(exports)
        self.deps = list(deps)


class R:
    """How the app builds a resource type: the makers it needs and the
    Python expressions of its identifiers, in boto3's order."""

    def __init__(self, makers, identifiers):
        self.makers = list(makers)
        self.identifiers = list(identifiers)


class X:
    """Per-entry details: call arguments, extra makers, extra setup code,
    operations to short-circuit for this entry only (with the reason), a
    different receiver, and a wrapper around the call."""

    def __init__(self, args='', needs=(), pre='', short_circuit=None, receiver=None, wrap=None, app_extra='',
                 only=None, receiver_ops=(), stub=(), stub_reason=None):
        self.args = args
        # Operations the receiver line itself sends (a resource only an
        # action returns).
        self.receiver_ops = list(receiver_ops)
        # [(client method, response literal)] answered by botocore's Stubber
        # where moto cannot produce the response the call needs.
        self.stub = list(stub)
        self.stub_reason = stub_reason
        # Makers replacing the resource type's own (a `create` action needs
        # the resource not to exist yet).
        self.only = None if only is None else list(only)
        self.needs = list(needs)
        self.pre = textwrap.dedent(pre)
        self.short_circuit = dict(short_circuit or {})
        self.receiver = receiver
        self.wrap = wrap
        self.app_extra = textwrap.dedent(app_extra)


class Spec:
    def __init__(self, service, makers, resources, entries=None, short_circuit=None, left_out=None,
                 setup_prelude=None, resource_var=None):
        self.service = service
        self.makers = makers
        self.resources = resources
        self.entries = entries or {}
        # Operations moto does not implement: {Operation: reason}.
        self.short_circuit = short_circuit or {}
        # Entries no fixture can prove: {entry id: reason}.
        self.left_out = left_out or {}
        self.setup_prelude = setup_prelude or f"client = boto3.client('{service}')\n"
        self.resource_var = resource_var or service

    def entry(self, entry_id):
        return self.entries.get(entry_id) or X()

    def extra_ids(self):
        return set()


def env(name):
    return f"os.environ['{name}']"


SPECS = {}

# --------------------------------------------------------------------------
# SQS
# --------------------------------------------------------------------------

SPECS['sqs'] = Spec(
    'sqs',
    makers={
        'queue': M("""
            QUEUE_URL = client.create_queue(QueueName='cov-queue')['QueueUrl']
            """, ['QUEUE_URL']),
        'message': M("""
            client.send_message(QueueUrl=QUEUE_URL, MessageBody='hello')
            RECEIPT = client.receive_message(QueueUrl=QUEUE_URL)['Messages'][0]['ReceiptHandle']
            """, ['RECEIPT'], deps=['queue']),
        'permission': M("""
            client.add_permission(QueueUrl=QUEUE_URL, Label='cov', AWSAccountIds=['123456789012'], Actions=['SendMessage'])
            """, deps=['queue']),
        'dead_letter_source': M("""
            DLQ_ARN = client.get_queue_attributes(QueueUrl=QUEUE_URL, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
            client.create_queue(QueueName='cov-source', Attributes={
                'RedrivePolicy': '{"deadLetterTargetArn": "%s", "maxReceiveCount": "3"}' % DLQ_ARN})
            """, deps=['queue']),
    },
    resources={
        'Queue': R(['queue'], [env('QUEUE_URL')]),
        'Message': R(['message'], [env('QUEUE_URL'), env('RECEIPT')]),
    },
    entries={
        'ServiceResource.create_queue': X("QueueName='cov-created'"),
        'ServiceResource.get_queue_by_name': X("QueueName='cov-queue'", needs=['queue']),
        'ServiceResource.queues.filter': X("QueueNamePrefix='cov'"),
        'Message.change_visibility': X('VisibilityTimeout=10'),
        'Queue.add_permission': X("Label='cov', AWSAccountIds=['123456789012'], Actions=['SendMessage']"),
        'Queue.change_message_visibility_batch': X(
            f"Entries=[{{'Id': '1', 'ReceiptHandle': {env('RECEIPT')}, 'VisibilityTimeout': 10}}]", needs=['message']),
        'Queue.delete_messages': X(f"Entries=[{{'Id': '1', 'ReceiptHandle': {env('RECEIPT')}}}]", needs=['message']),
        'Queue.remove_permission': X("Label='cov'", needs=['permission']),
        'Queue.send_message': X("MessageBody='hello'"),
        'Queue.send_messages': X("Entries=[{'Id': '1', 'MessageBody': 'hello'}]"),
        'Queue.set_attributes': X("Attributes={'VisibilityTimeout': '10'}"),
        'Queue.dead_letter_source_queues.all': X(needs=['dead_letter_source']),
    },
)

# --------------------------------------------------------------------------
# SNS
# --------------------------------------------------------------------------

SPECS['sns'] = Spec(
    'sns',
    makers={
        'topic': M("""
            TOPIC_ARN = client.create_topic(Name='cov-topic')['TopicArn']
            """, ['TOPIC_ARN']),
        'subscription': M("""
            SUBSCRIPTION_ARN = client.subscribe(TopicArn=TOPIC_ARN, Protocol='sqs',
                                                Endpoint='arn:aws:sqs:us-east-1:123456789012:cov-queue',
                                                ReturnSubscriptionArn=True)['SubscriptionArn']
            """, ['SUBSCRIPTION_ARN'], deps=['topic']),
        'permission': M("""
            client.add_permission(TopicArn=TOPIC_ARN, Label='cov', AWSAccountId=['123456789012'], ActionName=['Publish'])
            """, deps=['topic']),
        'application': M("""
            APPLICATION_ARN = client.create_platform_application(
                Name='cov-app', Platform='GCM', Attributes={'PlatformCredential': 'key'})['PlatformApplicationArn']
            """, ['APPLICATION_ARN']),
        'endpoint': M("""
            ENDPOINT_ARN = client.create_platform_endpoint(
                PlatformApplicationArn=APPLICATION_ARN, Token='device-token')['EndpointArn']
            """, ['ENDPOINT_ARN'], deps=['application']),
    },
    resources={
        'Topic': R(['topic'], [env('TOPIC_ARN')]),
        'Subscription': R(['subscription'], [env('SUBSCRIPTION_ARN')]),
        'PlatformApplication': R(['application'], [env('APPLICATION_ARN')]),
        'PlatformEndpoint': R(['endpoint'], [env('ENDPOINT_ARN')]),
    },
    entries={
        'ServiceResource.create_platform_application': X(
            "Name='cov-created', Platform='GCM', Attributes={'PlatformCredential': 'key'}"),
        'ServiceResource.create_topic': X("Name='cov-created'"),
        'PlatformApplication.create_platform_endpoint': X("Token='another-token'"),
        'PlatformApplication.set_attributes': X("Attributes={'PlatformCredential': 'new-key'}"),
        'PlatformEndpoint.publish': X("Message='hello'"),
        'PlatformEndpoint.set_attributes': X("Attributes={'Enabled': 'true'}"),
        'Subscription.set_attributes': X("AttributeName='RawMessageDelivery', AttributeValue='true'"),
        'Topic.add_permission': X("Label='cov', AWSAccountId=['123456789012'], ActionName=['Publish']"),
        'Topic.confirm_subscription': X("Token='token'"),
        'Topic.publish': X("Message='hello'"),
        'Topic.remove_permission': X("Label='cov'", needs=['permission']),
        'Topic.set_attributes': X("AttributeName='DisplayName', AttributeValue='Coverage'"),
        'Topic.subscribe': X("Protocol='sqs', Endpoint='arn:aws:sqs:us-east-1:123456789012:cov-queue'"),
    },
)

# --------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------

TABLE = """
client.create_table(
    TableName='cov-table',
    KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}],
    AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}],
    BillingMode='PAY_PER_REQUEST',
)
client.put_item(TableName='cov-table', Item={'id': {'S': 'a'}, 'n': {'N': '1'}})
"""

SPECS['dynamodb'] = Spec(
    'dynamodb',
    makers={'table': M(TABLE)},
    resources={'Table': R(['table'], ["'cov-table'"])},
    entries={
        'ServiceResource.batch_get_item': X("RequestItems={'cov-table': {'Keys': [{'id': 'a'}]}}", needs=['table']),
        'ServiceResource.batch_write_item': X(
            "RequestItems={'cov-table': [{'PutRequest': {'Item': {'id': 'b'}}}]}", needs=['table']),
        'ServiceResource.create_table': X(
            "TableName='cov-created', KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}], "
            "AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}], BillingMode='PAY_PER_REQUEST'"),
        'ServiceResource.tables.filter': X("ExclusiveStartTableName='aaa'"),
        'Table.delete_item': X("Key={'id': 'a'}"),
        'Table.get_item': X("Key={'id': 'a'}"),
        'Table.put_item': X("Item={'id': 'b', 'n': 2}"),
        'Table.query': X("KeyConditionExpression='id = :id', ExpressionAttributeValues={':id': 'a'}"),
        'Table.update': X("BillingMode='PAY_PER_REQUEST'"),
        'Table.update_item': X("Key={'id': 'a'}, UpdateExpression='SET n = :n', ExpressionAttributeValues={':n': 2}"),
        # TableNotExists succeeds on ResourceNotFoundException: a table that
        # was never created.
        'Table.wait_until_not_exists': X(receiver="table = dynamodb.Table('cov-missing')"),
    },
)

# --------------------------------------------------------------------------
# CloudWatch
# --------------------------------------------------------------------------

SPECS['cloudwatch'] = Spec(
    'cloudwatch',
    makers={
        'metric': M("""
            client.put_metric_data(Namespace='Coverage', MetricData=[{'MetricName': 'Hits', 'Value': 1.0}])
            """),
        'alarm': M("""
            client.put_metric_alarm(AlarmName='cov-alarm', Namespace='Coverage', MetricName='Hits',
                                    ComparisonOperator='GreaterThanThreshold', EvaluationPeriods=1,
                                    Threshold=1.0, Statistic='Sum', Period=60)
            """, deps=['metric']),
    },
    resources={
        'Alarm': R(['alarm'], ["'cov-alarm'"]),
        'Metric': R(['metric'], ["'Coverage'", "'Hits'"]),
    },
    entries={
        'Alarm.set_state': X("StateValue='ALARM', StateReason='coverage'"),
        'Metric.get_statistics': X(
            "StartTime=datetime.datetime(2024, 1, 1), EndTime=datetime.datetime(2024, 1, 2), "
            "Period=3600, Statistics=['Sum']", app_extra='import datetime'),
        'Metric.put_alarm': X(
            "AlarmName='cov-created', ComparisonOperator='GreaterThanThreshold', EvaluationPeriods=1, "
            "Threshold=1.0, Statistic='Sum', Period=60"),
        # boto3 appends the identifier as a new MetricData element (a
        # target ending in [] appends), so the caller still names the metric.
        'Metric.put_data': X("MetricData=[{'MetricName': 'Hits', 'Value': 2.0}]"),
        'ServiceResource.alarms.filter': X("AlarmNamePrefix='cov'"),
        'ServiceResource.metrics.filter': X("Namespace='Coverage'"),
        # Batch actions act on what the listing returns: an alarm must exist.
        'ServiceResource.alarms.delete': X(needs=['alarm']),
        'ServiceResource.alarms.disable_actions': X(needs=['alarm']),
        'ServiceResource.alarms.enable_actions': X(needs=['alarm']),
        'Metric.alarms.delete': X(needs=['alarm']),
        'Metric.alarms.disable_actions': X(needs=['alarm']),
        'Metric.alarms.enable_actions': X(needs=['alarm']),
    },
)

# --------------------------------------------------------------------------
# CloudFormation
# --------------------------------------------------------------------------

CFN_TEMPLATE = '{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}'
CFN_TEMPLATE2 = '{"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}}}'

SPECS['cloudformation'] = Spec(
    'cloudformation',
    makers={
        'stack': M(f"""
            client.create_stack(StackName='cov-stack', TemplateBody='{CFN_TEMPLATE}')
            EVENT_ID = client.describe_stack_events(StackName='cov-stack')['StackEvents'][0]['EventId']
            """, ['EVENT_ID']),
    },
    resources={
        'Stack': R(['stack'], ["'cov-stack'"]),
        'StackResource': R(['stack'], ["'cov-stack'", "'Queue'"]),
        'StackResourceSummary': R(['stack'], ["'cov-stack'", "'Queue'"]),
        'Event': R(['stack'], [env('EVENT_ID')]),
    },
    entries={
        'ServiceResource.create_stack': X(f"StackName='cov-created', TemplateBody='{CFN_TEMPLATE}'"),
        'ServiceResource.stacks.filter': X("StackName='cov-stack'", needs=['stack']),
        'Stack.update': X(f"TemplateBody='{CFN_TEMPLATE2}'"),
    },
)

# --------------------------------------------------------------------------
# Glacier
# --------------------------------------------------------------------------

SPECS['glacier'] = Spec(
    'glacier',
    makers={
        'vault': M("""
            client.create_vault(vaultName='cov-vault')
            """),
        'archive': M("""
            ARCHIVE_ID = client.upload_archive(vaultName='cov-vault', body=b'data')['archiveId']
            """, ['ARCHIVE_ID'], deps=['vault']),
        'job': M("""
            JOB_ID = client.initiate_job(vaultName='cov-vault', jobParameters={'Type': 'inventory-retrieval'})['jobId']
            """, ['JOB_ID'], deps=['vault']),
        # moto completes an expedited job 2 seconds after it starts; the
        # output of an incomplete job is a 404.
        'archive_job': M("""
            import time
            JOB_ID = client.initiate_job(vaultName='cov-vault', jobParameters={
                'Type': 'archive-retrieval', 'ArchiveId': ARCHIVE_ID, 'Tier': 'Expedited'})['jobId']
            time.sleep(2.1)
            """, ['JOB_ID'], deps=['archive']),
    },
    resources={
        'Account': R([], ["'-'"]),
        'Vault': R(['vault'], ["'-'", "'cov-vault'"]),
        'Archive': R(['archive'], ["'-'", "'cov-vault'", env('ARCHIVE_ID')]),
        'Job': R(['job'], ["'-'", "'cov-vault'", env('JOB_ID')]),
        # moto implements no Glacier multipart operation, so no upload can be
        # created; the id is never checked because the calls are short-circuited.
        'MultipartUpload': R(['vault'], ["'-'", "'cov-vault'", "'upload-id'"]),
        'Notification': R(['vault'], ["'-'", "'cov-vault'"]),
    },
    entries={
        'ServiceResource.create_vault': X("vaultName='cov-created'"),
        'Account.create_vault': X("vaultName='cov-created'"),
        'Job.get_output': X(receiver=f"job = glacier.Job('-', 'cov-vault', {env('JOB_ID')})", needs=['archive_job']),
        'Vault.upload_archive': X("body=b'data'"),
        'Notification.set': X("vaultNotificationConfig={'SNSTopic': 'arn:aws:sns:us-east-1:123456789012:t', "
                              "'Events': ['ArchiveRetrievalCompleted']}"),
    },
)

# --------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------

S3_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
             '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::cov-bucket/*"}]}')

SPECS['s3'] = Spec(
    's3',
    makers={
        'bucket': M("""
            client.create_bucket(Bucket='cov-bucket')
            """),
        'object': M("""
            client.put_object(Bucket='cov-bucket', Key='cov-key', Body=b'hello')
            """, deps=['bucket']),
        'source_object': M("""
            client.put_object(Bucket='cov-bucket', Key='cov-source', Body=b'source')
            """, deps=['bucket']),
        'glacier_object': M("""
            client.put_object(Bucket='cov-bucket', Key='cov-key', Body=b'hello', StorageClass='GLACIER')
            """, deps=['bucket']),
        'versioned_object': M("""
            client.put_bucket_versioning(Bucket='cov-bucket', VersioningConfiguration={'Status': 'Enabled'})
            VERSION_ID = client.put_object(Bucket='cov-bucket', Key='cov-key', Body=b'hello')['VersionId']
            """, ['VERSION_ID'], deps=['bucket']),
        'upload': M("""
            UPLOAD_ID = client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')['UploadId']
            """, ['UPLOAD_ID'], deps=['bucket']),
        'part': M("""
            ETAG = client.upload_part(Bucket='cov-bucket', Key='cov-upload', UploadId=UPLOAD_ID,
                                      PartNumber=1, Body=b'part')['ETag']
            """, ['ETAG'], deps=['upload']),
        'cors': M("""
            client.put_bucket_cors(Bucket='cov-bucket', CORSConfiguration={
                'CORSRules': [{'AllowedMethods': ['GET'], 'AllowedOrigins': ['*']}]})
            """, deps=['bucket']),
        'lifecycle': M("""
            client.put_bucket_lifecycle_configuration(Bucket='cov-bucket', LifecycleConfiguration={
                'Rules': [{'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Expiration': {'Days': 1}}]})
            """, deps=['bucket']),
        'policy': M(f"""
            client.put_bucket_policy(Bucket='cov-bucket', Policy='{S3_POLICY}')
            """, deps=['bucket']),
        'tagging': M("""
            client.put_bucket_tagging(Bucket='cov-bucket', Tagging={'TagSet': [{'Key': 'team', 'Value': 'cov'}]})
            """, deps=['bucket']),
        'website': M("""
            client.put_bucket_website(Bucket='cov-bucket', WebsiteConfiguration={'IndexDocument': {'Suffix': 'index.html'}})
            """, deps=['bucket']),
    },
    resources={
        'Bucket': R(['bucket'], ["'cov-bucket'"]),
        'BucketAcl': R(['bucket'], ["'cov-bucket'"]),
        'BucketCors': R(['cors'], ["'cov-bucket'"]),
        'BucketLifecycle': R(['lifecycle'], ["'cov-bucket'"]),
        'BucketLifecycleConfiguration': R(['lifecycle'], ["'cov-bucket'"]),
        'BucketLogging': R(['bucket'], ["'cov-bucket'"]),
        'BucketNotification': R(['bucket'], ["'cov-bucket'"]),
        'BucketPolicy': R(['policy'], ["'cov-bucket'"]),
        'BucketRequestPayment': R(['bucket'], ["'cov-bucket'"]),
        'BucketTagging': R(['tagging'], ["'cov-bucket'"]),
        'BucketVersioning': R(['bucket'], ["'cov-bucket'"]),
        'BucketWebsite': R(['website'], ["'cov-bucket'"]),
        'MultipartUpload': R(['upload'], ["'cov-bucket'", "'cov-upload'", env('UPLOAD_ID')]),
        'MultipartUploadPart': R(['upload'], ["'cov-bucket'", "'cov-upload'", env('UPLOAD_ID'), '1']),
        'Object': R(['object'], ["'cov-bucket'", "'cov-key'"]),
        'ObjectAcl': R(['object'], ["'cov-bucket'", "'cov-key'"]),
        'ObjectSummary': R(['object'], ["'cov-bucket'", "'cov-key'"]),
        'ObjectVersion': R(['versioned_object'], ["'cov-bucket'", "'cov-key'", env('VERSION_ID')]),
    },
    entries={
        'ServiceResource.create_bucket': X("Bucket='cov-created'"),
        'Bucket.delete_objects': X("Delete={'Objects': [{'Key': 'cov-key'}]}", needs=['object']),
        'Bucket.put_object': X("Key='cov-key', Body=b'hello'"),
        'Bucket.create': X(receiver="bucket = s3.Bucket('cov-created')"),
        'Bucket.wait_until_not_exists': X(receiver="bucket = s3.Bucket('cov-missing')"),
        'Bucket.objects.filter': X("Prefix='cov'"),
        'Bucket.object_versions.filter': X("Prefix='cov'"),
        'Bucket.multipart_uploads.filter': X("Prefix='cov'"),
        # Batch actions act on what the listing returns.
        'Bucket.objects.delete': X(needs=['object']),
        'Bucket.object_versions.delete': X(needs=['versioned_object']),
        'BucketAcl.put': X("ACL='private'"),
        'BucketCors.put': X("CORSConfiguration={'CORSRules': [{'AllowedMethods': ['PUT'], 'AllowedOrigins': ['*']}]}"),
        'BucketLifecycle.put': X(
            "LifecycleConfiguration={'Rules': [{'Prefix': '', 'Status': 'Enabled', 'Expiration': {'Days': 1}}]}"),
        'BucketLifecycleConfiguration.put': X(
            "LifecycleConfiguration={'Rules': [{'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', "
            "'Expiration': {'Days': 2}}]}"),
        'BucketLogging.put': X('BucketLoggingStatus={}'),
        'BucketNotification.put': X('NotificationConfiguration={}'),
        'BucketPolicy.put': X(f"Policy='{S3_POLICY}'"),
        'BucketRequestPayment.put': X("RequestPaymentConfiguration={'Payer': 'Requester'}"),
        'BucketTagging.put': X("Tagging={'TagSet': [{'Key': 'team', 'Value': 'other'}]}"),
        'BucketVersioning.put': X("VersioningConfiguration={'Status': 'Enabled'}"),
        'BucketWebsite.put': X("WebsiteConfiguration={'IndexDocument': {'Suffix': 'main.html'}}"),
        'MultipartUpload.complete': X(
            f"MultipartUpload={{'Parts': [{{'ETag': {env('ETAG')}, 'PartNumber': 1}}]}}", needs=['part']),
        'MultipartUpload.parts.all': X(needs=['part']),
        'MultipartUploadPart.copy_from': X("CopySource={'Bucket': 'cov-bucket', 'Key': 'cov-key'}", needs=['object']),
        'MultipartUploadPart.upload': X("Body=b'part'"),
        'Object.copy_from': X("CopySource={'Bucket': 'cov-bucket', 'Key': 'cov-source'}", needs=['source_object']),
        'Object.put': X("Body=b'hello'"),
        'Object.restore_object': X("RestoreRequest={'Days': 1}", needs=['glacier_object']),
        'Object.wait_until_not_exists': X(receiver="obj = s3.Object('cov-bucket', 'cov-missing')"),
        'ObjectAcl.put': X("ACL='private'"),
        'ObjectSummary.copy_from': X("CopySource={'Bucket': 'cov-bucket', 'Key': 'cov-source'}", needs=['source_object']),
        'ObjectSummary.put': X("Body=b'hello'"),
        'ObjectSummary.restore_object': X("RestoreRequest={'Days': 1}", needs=['glacier_object']),
        'ObjectSummary.wait_until_not_exists': X(receiver="object_summary = s3.ObjectSummary('cov-bucket', 'cov-missing')"),
    },
)

# --------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------

IAM_DOC = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", '
           '"Resource": "*"}]}')
IAM_TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
             '{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
# CreateSAMLProvider's document has a minimum length of 1000 characters.
SAML_DOC = ('<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" '
            'entityID="https://idp.example.com/coverage"><!--' + 'x' * 900 + '--></EntityDescriptor>')
# A self-signed certificate (moto parses signing certificates).
CERT = """
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
_key = ec.generate_private_key(ec.SECP256R1())
_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'coverage')])
CERT_PEM = (x509.CertificateBuilder().subject_name(_name).issuer_name(_name).public_key(_key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2024, 1, 1))
            .not_valid_after(datetime.datetime(2034, 1, 1)).sign(_key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM).decode())
KEY_PEM = _key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()
"""
POLICY_ARN = 'arn:aws:iam::123456789012:policy/cov-policy'

SPECS['iam'] = Spec(
    'iam',
    makers={
        'user': M("client.create_user(UserName='cov-user')"),
        'group': M("client.create_group(GroupName='cov-group')"),
        'member': M("client.add_user_to_group(GroupName='cov-group', UserName='cov-user')", deps=['user', 'group']),
        'role': M(f"client.create_role(RoleName='cov-role', AssumeRolePolicyDocument='{IAM_TRUST}')"),
        'policy': M(f"client.create_policy(PolicyName='cov-policy', PolicyDocument='{IAM_DOC}')"),
        'policy_v2': M(f"""
            client.create_policy_version(PolicyArn='{POLICY_ARN}', PolicyDocument='{IAM_DOC}')
            """, deps=['policy']),
        'user_attached': M(f"client.attach_user_policy(UserName='cov-user', PolicyArn='{POLICY_ARN}')",
                           deps=['user', 'policy']),
        'group_attached': M(f"client.attach_group_policy(GroupName='cov-group', PolicyArn='{POLICY_ARN}')",
                            deps=['group', 'policy']),
        'role_attached': M(f"client.attach_role_policy(RoleName='cov-role', PolicyArn='{POLICY_ARN}')",
                           deps=['role', 'policy']),
        'user_policy': M(f"client.put_user_policy(UserName='cov-user', PolicyName='cov-inline', PolicyDocument='{IAM_DOC}')",
                         deps=['user']),
        'group_policy': M(f"client.put_group_policy(GroupName='cov-group', PolicyName='cov-inline', PolicyDocument='{IAM_DOC}')",
                          deps=['group']),
        'role_policy': M(f"client.put_role_policy(RoleName='cov-role', PolicyName='cov-inline', PolicyDocument='{IAM_DOC}')",
                         deps=['role']),
        'instance_profile': M("client.create_instance_profile(InstanceProfileName='cov-profile')"),
        'profile_role': M("client.add_role_to_instance_profile(InstanceProfileName='cov-profile', RoleName='cov-role')",
                          deps=['instance_profile', 'role']),
        'access_key': M("""
            _key = client.create_access_key(UserName='cov-user')['AccessKey']
            ACCESS_KEY_ID, SECRET = _key['AccessKeyId'], _key['SecretAccessKey']
            """, ['ACCESS_KEY_ID', 'SECRET'], deps=['user']),
        'login_profile': M("client.create_login_profile(UserName='cov-user', Password='Coverage-Passw0rd')",
                           deps=['user']),
        'virtual_mfa': M("""
            MFA_SERIAL = client.create_virtual_mfa_device(VirtualMFADeviceName='cov-mfa')['VirtualMFADevice']['SerialNumber']
            """, ['MFA_SERIAL']),
        'mfa_enabled': M("""
            client.enable_mfa_device(UserName='cov-user', SerialNumber=MFA_SERIAL,
                                     AuthenticationCode1='123456', AuthenticationCode2='654321')
            """, deps=['user', 'virtual_mfa']),
        'saml': M(f"""
            SAML_ARN = client.create_saml_provider(Name='cov-saml', SAMLMetadataDocument='{SAML_DOC}')['SAMLProviderArn']
            """, ['SAML_ARN']),
        'cert': M(CERT, ['CERT_PEM', 'KEY_PEM']),
        'server_cert': M("""
            client.upload_server_certificate(ServerCertificateName='cov-cert', CertificateBody=CERT_PEM, PrivateKey=KEY_PEM)
            """, deps=['cert']),
        'signing_cert': M("""
            CERT_ID = client.upload_signing_certificate(UserName='cov-user', CertificateBody=CERT_PEM)['Certificate']['CertificateId']
            """, ['CERT_ID'], deps=['user', 'cert']),
        'password_policy': M("client.update_account_password_policy(MinimumPasswordLength=8)"),
        # CurrentUser is whoever signs the request: make that a real user.
        'caller': M("""
            client.create_user(UserName='cov-caller')
            _key = client.create_access_key(UserName='cov-caller')['AccessKey']
            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY = _key['AccessKeyId'], _key['SecretAccessKey']
            # The default session caches the credentials it resolved; the app
            # must get a new one that reads these.
            boto3.DEFAULT_SESSION = None
            """, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
    },
    resources={
        'AccessKey': R(['access_key'], ["'cov-user'", env('ACCESS_KEY_ID')]),
        'AccessKeyPair': R(['access_key'], ["'cov-user'", env('ACCESS_KEY_ID'), env('SECRET')]),
        'AccountPasswordPolicy': R(['password_policy'], []),
        'AccountSummary': R([], []),
        'AssumeRolePolicy': R(['role'], ["'cov-role'"]),
        'CurrentUser': R(['caller'], []),
        'Group': R(['group'], ["'cov-group'"]),
        'GroupPolicy': R(['group_policy'], ["'cov-group'", "'cov-inline'"]),
        'InstanceProfile': R(['instance_profile'], ["'cov-profile'"]),
        'LoginProfile': R(['login_profile'], ["'cov-user'"]),
        'MfaDevice': R(['mfa_enabled'], ["'cov-user'", env('MFA_SERIAL')]),
        'Policy': R(['policy'], [f"'{POLICY_ARN}'"]),
        'PolicyVersion': R(['policy_v2'], [f"'{POLICY_ARN}'", "'v2'"]),
        'Role': R(['role'], ["'cov-role'"]),
        'RolePolicy': R(['role_policy'], ["'cov-role'", "'cov-inline'"]),
        'SamlProvider': R(['saml'], [env('SAML_ARN')]),
        'ServerCertificate': R(['server_cert'], ["'cov-cert'"]),
        'SigningCertificate': R(['signing_cert'], ["'cov-user'", env('CERT_ID')]),
        'User': R(['user'], ["'cov-user'"]),
        'UserPolicy': R(['user_policy'], ["'cov-user'", "'cov-inline'"]),
        'VirtualMfaDevice': R(['virtual_mfa'], [env('MFA_SERIAL')]),
    },
    entries={
        'ServiceResource.change_password': X("OldPassword='Coverage-Passw0rd', NewPassword='Coverage-Passw0rd-2'"),
        'ServiceResource.create_account_alias': X("AccountAlias='cov-alias'"),
        'ServiceResource.create_account_password_policy': X('MinimumPasswordLength=8'),
        'ServiceResource.create_group': X("GroupName='cov-created'"),
        'ServiceResource.create_instance_profile': X("InstanceProfileName='cov-created'"),
        'ServiceResource.create_policy': X(f"PolicyName='cov-created', PolicyDocument='{IAM_DOC}'"),
        'ServiceResource.create_role': X(f"RoleName='cov-created', AssumeRolePolicyDocument='{IAM_TRUST}'"),
        'ServiceResource.create_saml_provider': X(f"Name='cov-created', SAMLMetadataDocument='{SAML_DOC}'"),
        'ServiceResource.create_server_certificate': X(
            f"ServerCertificateName='cov-created', CertificateBody={env('CERT_PEM')}, PrivateKey={env('KEY_PEM')}",
            needs=['cert']),
        'ServiceResource.create_signing_certificate': X(
            f"UserName='cov-user', CertificateBody={env('CERT_PEM')}", needs=['user', 'cert'],
            short_circuit={'UploadSigningCertificate': "moto 5.2.5's response lacks Certificate.UserName, "
                                                       "so boto3 cannot build the SigningCertificate it returns"}),
        'ServiceResource.create_user': X("UserName='cov-created'"),
        'ServiceResource.create_virtual_mfa_device': X("VirtualMFADeviceName='cov-created'"),
        'AccountPasswordPolicy.update': X('MinimumPasswordLength=10'),
        'AssumeRolePolicy.update': X(f"PolicyDocument='{IAM_TRUST}'"),
        'Group.add_user': X("UserName='cov-user'", needs=['user']),
        'Group.attach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['policy']),
        'Group.create': X(receiver="group = iam.Group('cov-created')", only=[]),
        'Group.create_policy': X(f"PolicyName='cov-inline', PolicyDocument='{IAM_DOC}'"),
        'Group.detach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['group_attached']),
        'Group.remove_user': X("UserName='cov-user'", needs=['member']),
        'Group.update': X("NewGroupName='cov-renamed'"),
        'GroupPolicy.put': X(f"PolicyDocument='{IAM_DOC}'"),
        'InstanceProfile.add_role': X("RoleName='cov-role'", needs=['role']),
        'InstanceProfile.remove_role': X("RoleName='cov-role'", needs=['profile_role']),
        'LoginProfile.create': X("Password='Coverage-Passw0rd'", only=['user']),
        'LoginProfile.update': X("Password='Coverage-Passw0rd-2'"),
        'MfaDevice.associate': X("AuthenticationCode1='123456', AuthenticationCode2='654321'", only=['user', 'virtual_mfa']),
        'MfaDevice.resync': X("AuthenticationCode1='123456', AuthenticationCode2='654321'"),
        'Policy.attach_group': X("GroupName='cov-group'", needs=['group']),
        'Policy.attach_role': X("RoleName='cov-role'", needs=['role']),
        'Policy.attach_user': X("UserName='cov-user'", needs=['user']),
        'Policy.create_version': X(f"PolicyDocument='{IAM_DOC}'"),
        'Policy.detach_group': X("GroupName='cov-group'", needs=['group_attached']),
        'Policy.detach_role': X("RoleName='cov-role'", needs=['role_attached']),
        'Policy.detach_user': X("UserName='cov-user'", needs=['user_attached']),
        'Policy.attached_groups.all': X(needs=['group_attached']),
        'Policy.attached_roles.all': X(needs=['role_attached']),
        'Policy.attached_users.all': X(needs=['user_attached']),
        'Role.attach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['policy']),
        'Role.detach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['role_attached']),
        'RolePolicy.put': X(f"PolicyDocument='{IAM_DOC}'"),
        'SamlProvider.update': X(f"SAMLMetadataDocument='{SAML_DOC}'"),
        'ServerCertificate.update': X("NewServerCertificateName='cov-renamed'"),
        'User.add_group': X("GroupName='cov-group'", needs=['group']),
        'User.attach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['policy']),
        'User.create': X(receiver="user = iam.User('cov-created')", only=[]),
        'User.create_login_profile': X("Password='Coverage-Passw0rd'"),
        'User.create_policy': X(f"PolicyName='cov-inline', PolicyDocument='{IAM_DOC}'"),
        'User.detach_policy': X(f"PolicyArn='{POLICY_ARN}'", needs=['user_attached']),
        'User.enable_mfa': X(f"SerialNumber={env('MFA_SERIAL')}, AuthenticationCode1='123456', "
                             "AuthenticationCode2='654321'", needs=['virtual_mfa']),
        'User.remove_group': X("GroupName='cov-group'", needs=['member']),
        'User.update': X("NewUserName='cov-renamed'"),
        'UserPolicy.put': X(f"PolicyDocument='{IAM_DOC}'"),
        **{f'CurrentUser.{c}.{m}': X(short_circuit={op: f'moto 5.2.5 requires UserName for {op}; '
                                                        'it does not infer the calling user'})
           for c, op in (('mfa_devices', 'ListMFADevices'), ('signing_certificates', 'ListSigningCertificates'))
           for m in ('all', 'filter', 'limit', 'page_size')},
    },
)

# --------------------------------------------------------------------------
# EC2
# --------------------------------------------------------------------------

TAGS = "Tags=[{'Key': 'team', 'Value': 'cov'}]"
ALL_TRAFFIC = "IpPermissions=[{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}]"
HTTP_IN = "IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}]"

SPECS['ec2'] = Spec(
    'ec2',
    # moto loads thousands of default AMIs into every new EC2 backend (seconds
    # per fixture, and images.all() would list them all); fixtures register
    # the one image they need instead.
    setup_prelude="os.environ['MOTO_EC2_LOAD_DEFAULT_AMIS'] = 'false'\nclient = boto3.client('ec2')\n",
    makers={
        'image': M("IMAGE_ID = client.register_image(Name='cov-ami', RootDeviceName='/dev/sda1')['ImageId']",
                   ['IMAGE_ID']),
        'vpc': M("VPC_ID = client.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']", ['VPC_ID']),
        'vpc2': M("VPC2_ID = client.create_vpc(CidrBlock='10.1.0.0/16')['Vpc']['VpcId']", ['VPC2_ID']),
        'subnet': M("""
            SUBNET_ID = client.create_subnet(VpcId=VPC_ID, CidrBlock='10.0.1.0/24',
                                             AvailabilityZone='us-east-1a')['Subnet']['SubnetId']
            """, ['SUBNET_ID'], deps=['vpc']),
        # Instances run in the subnet, so the VPC and subnet collections
        # list them too.
        'instance': M("""
            INSTANCE_ID = client.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1, InstanceType='t2.micro',
                                               SubnetId=SUBNET_ID)['Instances'][0]['InstanceId']
            """, ['INSTANCE_ID'], deps=['image', 'subnet']),
        'stopped': M("client.stop_instances(InstanceIds=[INSTANCE_ID])", deps=['instance']),
        'terminated': M("client.terminate_instances(InstanceIds=[INSTANCE_ID])", deps=['instance']),
        'grouped_instance': M("""
            INSTANCE_ID = client.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1, InstanceType='t2.micro',
                                               Placement={'GroupName': 'cov-group'})['Instances'][0]['InstanceId']
            """, ['INSTANCE_ID'], deps=['image']),
        'own_image': M("""
            OWN_IMAGE_ID = client.create_image(InstanceId=INSTANCE_ID, Name='cov-image')['ImageId']
            """, ['OWN_IMAGE_ID'], deps=['instance']),
        'security_group': M("""
            SG_ID = client.create_security_group(GroupName='cov-sg', Description='coverage', VpcId=VPC_ID)['GroupId']
            """, ['SG_ID'], deps=['vpc']),
        'sg_ingress': M(f"client.authorize_security_group_ingress(GroupId=SG_ID, {HTTP_IN})", deps=['security_group']),
        'volume': M("""
            VOLUME_ID = client.create_volume(AvailabilityZone='us-east-1a', Size=1)['VolumeId']
            """, ['VOLUME_ID']),
        'attached_volume': M("""
            client.attach_volume(VolumeId=VOLUME_ID, InstanceId=INSTANCE_ID, Device='/dev/sdf')
            """, deps=['volume', 'instance']),
        'snapshot': M("SNAPSHOT_ID = client.create_snapshot(VolumeId=VOLUME_ID)['SnapshotId']", ['SNAPSHOT_ID'],
                      deps=['volume']),
        'igw': M("IGW_ID = client.create_internet_gateway()['InternetGateway']['InternetGatewayId']", ['IGW_ID']),
        'igw_attached': M("client.attach_internet_gateway(InternetGatewayId=IGW_ID, VpcId=VPC_ID)",
                          deps=['igw', 'vpc']),
        'route_table': M("RTB_ID = client.create_route_table(VpcId=VPC_ID)['RouteTable']['RouteTableId']", ['RTB_ID'],
                         deps=['vpc']),
        'route_table2': M("RTB2_ID = client.create_route_table(VpcId=VPC_ID)['RouteTable']['RouteTableId']",
                          ['RTB2_ID'], deps=['vpc']),
        'route': M("""
            client.create_route(RouteTableId=RTB_ID, DestinationCidrBlock='0.0.0.0/0', GatewayId=IGW_ID)
            """, deps=['route_table', 'igw_attached']),
        'rtb_assoc': M("""
            RTB_ASSOC_ID = client.associate_route_table(RouteTableId=RTB_ID, SubnetId=SUBNET_ID)['AssociationId']
            """, ['RTB_ASSOC_ID'], deps=['route_table', 'subnet']),
        'network_acl': M("ACL_ID = client.create_network_acl(VpcId=VPC_ID)['NetworkAcl']['NetworkAclId']", ['ACL_ID'],
                         deps=['vpc']),
        'acl_entry': M("""
            client.create_network_acl_entry(NetworkAclId=ACL_ID, RuleNumber=100, Protocol='-1', RuleAction='allow',
                                            Egress=False, CidrBlock='0.0.0.0/0')
            """, deps=['network_acl']),
        # The subnet's association with the VPC's default network ACL.
        'acl_assoc': M("""
            ACL_ASSOC_ID = [a['NetworkAclAssociationId']
                            for acl in client.describe_network_acls()['NetworkAcls']
                            for a in acl['Associations'] if a['SubnetId'] == SUBNET_ID][0]
            """, ['ACL_ASSOC_ID'], deps=['network_acl', 'subnet']),
        'eni': M("""
            ENI_ID = client.create_network_interface(SubnetId=SUBNET_ID)['NetworkInterface']['NetworkInterfaceId']
            """, ['ENI_ID'], deps=['subnet']),
        'eni_attached': M("""
            client.attach_network_interface(NetworkInterfaceId=ENI_ID, InstanceId=INSTANCE_ID, DeviceIndex=1)
            """, deps=['eni', 'instance']),
        'eni_private_ip': M("""
            client.assign_private_ip_addresses(NetworkInterfaceId=ENI_ID, SecondaryPrivateIpAddressCount=1)
            PRIVATE_IP = [a['PrivateIpAddress'] for a in client.describe_network_interfaces(
                NetworkInterfaceIds=[ENI_ID])['NetworkInterfaces'][0]['PrivateIpAddresses'] if not a['Primary']][0]
            """, ['PRIVATE_IP'], deps=['eni']),
        'vpc_address': M("""
            ALLOCATION_ID = client.allocate_address(Domain='vpc')['AllocationId']
            """, ['ALLOCATION_ID']),
        'eni_association': M("""
            ENI_ASSOC_ID = client.associate_address(AllocationId=ALLOCATION_ID, NetworkInterfaceId=ENI_ID)['AssociationId']
            """, ['ENI_ASSOC_ID'], deps=['vpc_address', 'eni']),
        'vpc_address_associated': M("""
            client.associate_address(AllocationId=ALLOCATION_ID, InstanceId=INSTANCE_ID)
            """, deps=['vpc_address', 'instance']),
        'classic_address': M("PUBLIC_IP = client.allocate_address(Domain='standard')['PublicIp']", ['PUBLIC_IP']),
        'classic_associated': M("client.associate_address(PublicIp=PUBLIC_IP, InstanceId=INSTANCE_ID)",
                                deps=['classic_address', 'instance']),
        'dhcp': M("""
            DHCP_ID = client.create_dhcp_options(DhcpConfigurations=[
                {'Key': 'domain-name', 'Values': ['example.com']}])['DhcpOptions']['DhcpOptionsId']
            """, ['DHCP_ID']),
        'key_pair': M("client.create_key_pair(KeyName='cov-key')"),
        'public_key': M("""
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ed25519
            PUBLIC_KEY = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
            """, ['PUBLIC_KEY']),
        'peering': M("""
            PCX_ID = client.create_vpc_peering_connection(VpcId=VPC_ID, PeerVpcId=VPC2_ID)[
                'VpcPeeringConnection']['VpcPeeringConnectionId']
            """, ['PCX_ID'], deps=['vpc', 'vpc2']),
        'tag': M(f"client.create_tags(Resources=[VPC_ID], {TAGS})", deps=['vpc']),
    },
    resources={
        'ClassicAddress': R(['classic_address'], [env('PUBLIC_IP')]),
        'DhcpOptions': R(['dhcp'], [env('DHCP_ID')]),
        'Image': R(['own_image'], [env('OWN_IMAGE_ID')]),
        'Instance': R(['instance'], [env('INSTANCE_ID')]),
        'InternetGateway': R(['igw'], [env('IGW_ID')]),
        'KeyPair': R(['key_pair'], ["'cov-key'"]),
        'KeyPairInfo': R(['key_pair'], ["'cov-key'"]),
        'NetworkAcl': R(['network_acl'], [env('ACL_ID')]),
        'NetworkInterface': R(['eni'], [env('ENI_ID')]),
        'NetworkInterfaceAssociation': R(['eni_association'], [env('ENI_ASSOC_ID')]),
        # moto implements no placement group operation; the group name is
        # only a filter of DescribeInstances (the instances collection) or
        # short-circuited.
        'PlacementGroup': R([], ["'cov-group'"]),
        'Route': R(['route'], [env('RTB_ID'), "'0.0.0.0/0'"]),
        'RouteTable': R(['route_table'], [env('RTB_ID')]),
        'RouteTableAssociation': R(['rtb_assoc'], [env('RTB_ASSOC_ID')]),
        'SecurityGroup': R(['security_group'], [env('SG_ID')]),
        'Snapshot': R(['snapshot'], [env('SNAPSHOT_ID')]),
        'Subnet': R(['subnet'], [env('SUBNET_ID')]),
        'Tag': R(['tag'], [env('VPC_ID'), "'team'", "'cov'"]),
        'Volume': R(['volume'], [env('VOLUME_ID')]),
        'Vpc': R(['vpc'], [env('VPC_ID')]),
        'VpcAddress': R(['vpc_address'], [env('ALLOCATION_ID')]),
        'VpcPeeringConnection': R(['peering'], [env('PCX_ID')]),
    },
    entries={
        'ServiceResource.create_dhcp_options': X(
            "DhcpConfigurations=[{'Key': 'domain-name', 'Values': ['example.org']}]"),
        'ServiceResource.create_instances': X(f"ImageId={env('IMAGE_ID')}, MinCount=1, MaxCount=1",
                                              needs=['image']),
        'ServiceResource.create_key_pair': X("KeyName='cov-created'"),
        'ServiceResource.create_network_acl': X(f"VpcId={env('VPC_ID')}", needs=['vpc']),
        'ServiceResource.create_network_interface': X(f"SubnetId={env('SUBNET_ID')}", needs=['subnet']),
        'ServiceResource.create_placement_group': X("GroupName='cov-created', Strategy='cluster'"),
        'ServiceResource.create_route_table': X(f"VpcId={env('VPC_ID')}", needs=['vpc']),
        'ServiceResource.create_security_group': X(
            f"GroupName='cov-created', Description='coverage', VpcId={env('VPC_ID')}", needs=['vpc']),
        'ServiceResource.create_snapshot': X(f"VolumeId={env('VOLUME_ID')}", needs=['volume']),
        'ServiceResource.create_subnet': X(f"VpcId={env('VPC_ID')}, CidrBlock='10.0.2.0/24'", needs=['vpc']),
        'ServiceResource.create_tags': X(f"Resources=[{env('VPC_ID')}], {TAGS}", needs=['vpc']),
        'ServiceResource.create_volume': X("AvailabilityZone='us-east-1a', Size=1"),
        'ServiceResource.create_vpc': X("CidrBlock='10.2.0.0/16'"),
        'ServiceResource.create_vpc_peering_connection': X(
            f"VpcId={env('VPC_ID')}, PeerVpcId={env('VPC2_ID')}", needs=['vpc', 'vpc2']),
        'ServiceResource.disassociate_route_table': X(f"AssociationId={env('RTB_ASSOC_ID')}", needs=['rtb_assoc']),
        'ServiceResource.import_key_pair': X(f"KeyName='cov-imported', PublicKeyMaterial={env('PUBLIC_KEY')}",
                                             needs=['public_key']),
        'ServiceResource.register_image': X("Name='cov-registered', RootDeviceName='/dev/sda1'"),
        'ClassicAddress.associate': X(f"InstanceId={env('INSTANCE_ID')}", needs=['instance']),
        'ClassicAddress.disassociate': X(needs=['classic_associated']),
        'DhcpOptions.associate_with_vpc': X(f"VpcId={env('VPC_ID')}", needs=['vpc']),
        'Image.describe_attribute': X("Attribute='description'"),
        'Image.modify_attribute': X("Description={'Value': 'coverage'}"),
        'Image.reset_attribute': X("Attribute='launchPermission'"),
        'Instance.attach_classic_link_vpc': X(f"VpcId={env('VPC_ID')}, Groups=[{env('SG_ID')}]",
                                              needs=['security_group']),
        'Instance.attach_volume': X(f"VolumeId={env('VOLUME_ID')}, Device='/dev/sdf'", needs=['volume']),
        'Instance.create_image': X("Name='cov-created'"),
        'Instance.describe_attribute': X("Attribute='instanceType'"),
        'Instance.detach_classic_link_vpc': X(f"VpcId={env('VPC_ID')}"),
        'Instance.detach_volume': X(f"VolumeId={env('VOLUME_ID')}", needs=['attached_volume']),
        'Instance.modify_attribute': X("InstanceType={'Value': 't2.small'}", needs=['stopped']),
        'Instance.report_status': X("Status='impaired', ReasonCodes=['unresponsive']"),
        'Instance.reset_attribute': X("Attribute='sourceDestCheck'"),
        'Instance.start': X(needs=['stopped']),
        'Instance.wait_until_stopped': X(needs=['stopped']),
        'Instance.wait_until_terminated': X(needs=['terminated']),
        'InternetGateway.attach_to_vpc': X(f"VpcId={env('VPC_ID')}", needs=['vpc']),
        'InternetGateway.detach_from_vpc': X(f"VpcId={env('VPC_ID')}", needs=['igw_attached']),
        'NetworkAcl.create_entry': X(
            "RuleNumber=200, Protocol='-1', RuleAction='allow', Egress=False, CidrBlock='0.0.0.0/0'"),
        'NetworkAcl.delete_entry': X('RuleNumber=100, Egress=False', needs=['acl_entry']),
        'NetworkAcl.replace_association': X(f"AssociationId={env('ACL_ASSOC_ID')}", needs=['acl_assoc']),
        'NetworkAcl.replace_entry': X(
            "RuleNumber=100, Protocol='-1', RuleAction='deny', Egress=False, CidrBlock='0.0.0.0/0'",
            needs=['acl_entry']),
        'NetworkInterface.assign_private_ip_addresses': X('SecondaryPrivateIpAddressCount=1'),
        'NetworkInterface.attach': X(f"InstanceId={env('INSTANCE_ID')}, DeviceIndex=1", needs=['instance']),
        'NetworkInterface.describe_attribute': X("Attribute='description'"),
        'NetworkInterface.detach': X(needs=['eni_attached']),
        'NetworkInterface.modify_attribute': X("Description={'Value': 'coverage'}"),
        'NetworkInterface.reset_attribute': X("SourceDestCheck='true'"),
        'NetworkInterface.unassign_private_ip_addresses': X(f"PrivateIpAddresses=[{env('PRIVATE_IP')}]",
                                                            needs=['eni_private_ip']),
        'Route.replace': X(f"GatewayId={env('IGW_ID')}"),
        'RouteTable.associate_with_subnet': X(f"SubnetId={env('SUBNET_ID')}", needs=['subnet']),
        'RouteTable.create_route': X(f"DestinationCidrBlock='0.0.0.0/0', GatewayId={env('IGW_ID')}",
                                     needs=['igw_attached']),
        'RouteTableAssociation.replace_subnet': X(f"RouteTableId={env('RTB2_ID')}", needs=['route_table2']),
        'SecurityGroup.authorize_egress': X(HTTP_IN),
        'SecurityGroup.authorize_ingress': X(HTTP_IN),
        'SecurityGroup.revoke_egress': X(ALL_TRAFFIC),
        'SecurityGroup.revoke_ingress': X(HTTP_IN, needs=['sg_ingress']),
        'Snapshot.copy': X("SourceRegion='us-east-1'"),
        'Snapshot.describe_attribute': X("Attribute='createVolumePermission'"),
        'Snapshot.modify_attribute': X(
            "Attribute='createVolumePermission', OperationType='add', UserIds=['111122223333']"),
        'Snapshot.reset_attribute': X("Attribute='createVolumePermission'"),
        'Subnet.create_instances': X(f"ImageId={env('IMAGE_ID')}, MinCount=1, MaxCount=1", needs=['image']),
        'Volume.attach_to_instance': X(f"InstanceId={env('INSTANCE_ID')}, Device='/dev/sdf'", needs=['instance']),
        'Volume.describe_attribute': X("Attribute='autoEnableIO'"),
        'Volume.detach_from_instance': X(needs=['attached_volume']),
        'Volume.modify_attribute': X("AutoEnableIO={'Value': True}"),
        'Vpc.associate_dhcp_options': X(f"DhcpOptionsId={env('DHCP_ID')}", needs=['dhcp']),
        'Vpc.attach_classic_link_instance': X(f"InstanceId={env('INSTANCE_ID')}, Groups=[{env('SG_ID')}]",
                                              needs=['instance', 'security_group']),
        'Vpc.attach_internet_gateway': X(f"InternetGatewayId={env('IGW_ID')}", needs=['igw']),
        'Vpc.create_security_group': X("GroupName='cov-created', Description='coverage'"),
        'Vpc.create_subnet': X("CidrBlock='10.0.3.0/24'"),
        'Vpc.describe_attribute': X("Attribute='enableDnsSupport'"),
        'Vpc.detach_classic_link_instance': X(f"InstanceId={env('INSTANCE_ID')}", needs=['instance']),
        'Vpc.detach_internet_gateway': X(f"InternetGatewayId={env('IGW_ID')}", needs=['igw_attached']),
        'Vpc.modify_attribute': X("EnableDnsSupport={'Value': True}"),
        'Vpc.request_vpc_peering_connection': X(f"PeerVpcId={env('VPC2_ID')}", needs=['vpc2']),
        'VpcAddress.associate': X(f"InstanceId={env('INSTANCE_ID')}", needs=['instance']),
        'Volume.detach_from_instance': X(f"InstanceId={env('INSTANCE_ID')}", needs=['attached_volume']),
        # boto3 exposes no KeyPair constructor (ec2.KeyPair builds a
        # KeyPairInfo): a KeyPair only comes from create_key_pair.
        'KeyPair.delete': X(receiver="key_pair = ec2.create_key_pair(KeyName='cov-created')",
                            receiver_ops=['CreateKeyPair'], only=[]),
        'NetworkInterfaceAssociation.load': X(short_circuit={
            'DescribeNetworkInterfaces': "moto 5.2.5 has no DescribeNetworkInterfaces filter "
                                         "'association.association-id', which this load sends"}),
    },
)


def _ec2_tags_and_batches():
    """create_tags on every taggable resource, and the instance batch
    actions on every collection of instances (they act on the listed
    instances, so one must be listed)."""
    e = SPECS['ec2'].entries
    for rtype in ('DhcpOptions', 'Image', 'Instance', 'InternetGateway', 'NetworkAcl', 'NetworkInterface',
                  'RouteTable', 'SecurityGroup', 'Snapshot', 'Subnet', 'Volume', 'Vpc'):
        e[f'{rtype}.create_tags'] = X(TAGS)
    for owner, needs in (('ServiceResource', ['instance']), ('Subnet', ['instance']), ('Vpc', ['instance']),
                         ('PlacementGroup', ['grouped_instance'])):
        for action in ('monitor', 'reboot', 'start', 'stop', 'terminate', 'unmonitor'):
            e[f'{owner}.instances.{action}'] = X(needs=needs)
        e[f'{owner}.instances.create_tags'] = X(TAGS, needs=needs)
    e['ServiceResource.instances.start'] = X(needs=['stopped'])
    e['Subnet.instances.start'] = X(needs=['stopped'])
    e['Vpc.instances.start'] = X(needs=['stopped'])


_ec2_tags_and_batches()

# moto cannot filter instances by placement group (and implements no
# placement group operation), so an instance in one cannot be listed; the
# listing and the batch action are answered by botocore's Stubber.
_GROUPED = ("{'Reservations': [{'Instances': [{'InstanceId': 'i-0123456789abcdef0', "
            "'Placement': {'GroupName': 'cov-group'}}]}]}")
for _action, _method in (('create_tags', 'create_tags'), ('monitor', 'monitor_instances'),
                         ('reboot', 'reboot_instances'), ('start', 'start_instances'), ('stop', 'stop_instances'),
                         ('terminate', 'terminate_instances'), ('unmonitor', 'unmonitor_instances')):
    SPECS['ec2'].entries[f'PlacementGroup.instances.{_action}'] = X(
        TAGS if _action == 'create_tags' else '',
        stub=[('describe_instances', _GROUPED), (_method, '{}')],
        stub_reason="moto 5.2.5 cannot filter DescribeInstances by 'placement-group-name'")


# --------------------------------------------------------------------------
# Methods boto3 injects
# --------------------------------------------------------------------------

UPLOAD_OPS = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload']
COPY_OPS = ['CopyObject', 'CreateMultipartUpload', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload']

# The sides of a transfer: what the run must send and must not send, among
# the operations static analysis can only call "maybe" (it cannot know the
# size). `multipart` uses a 1 KiB threshold on a 2 KiB body; `abort` also
# interrupts the transfer from its progress callback.
TRANSFER_SIDES = {
    'upload': {
        'small': (['PutObject'], ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload',
                                  'AbortMultipartUpload']),
        'multipart': (['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'],
                      ['PutObject', 'AbortMultipartUpload']),
        'abort': (['CreateMultipartUpload', 'AbortMultipartUpload'], ['PutObject', 'CompleteMultipartUpload']),
    },
    'copy': {
        'small': (['CopyObject'], ['CreateMultipartUpload', 'UploadPartCopy', 'CompleteMultipartUpload',
                                   'AbortMultipartUpload']),
        'multipart': (['CreateMultipartUpload', 'UploadPartCopy', 'CompleteMultipartUpload'],
                      ['CopyObject', 'AbortMultipartUpload']),
        'abort': (['CreateMultipartUpload', 'AbortMultipartUpload'], ['CopyObject', 'CompleteMultipartUpload']),
    },
}

TRANSFER_CONFIG = """
# A 1 KiB threshold makes the 2 KiB objects below multipart transfers.
MULTIPART = TransferConfig(multipart_threshold=1024, multipart_chunksize=1024)
"""

TRANSFER_INTERRUPT = """

class Interrupted(Exception):
    pass


def _interrupt(transferred):
    # Failing from the progress callback fails the transfer after its
    # multipart upload was created, which s3transfer then aborts.
    raise Interrupted(transferred)
"""


def _transfer_call(owner, method, side):
    """The call, on the client / a Bucket / an Object, for one side."""
    config = '' if side == 'small' else ', Config=MULTIPART'
    callback = ', Callback=_interrupt' if side == 'abort' else ''
    recv = {'client': 's3', 'Bucket': 'bucket', 'Object': 'obj'}[owner]
    where = {'client': "'cov-bucket', 'cov-dest'", 'Bucket': "'cov-dest'", 'Object': ''}[owner]
    sep = ', ' if where else ''
    if method == 'upload_file':
        return f"{recv}.upload_file('payload.bin'{sep}{where}{config}{callback})"
    if method == 'upload_fileobj':
        return f"{recv}.upload_fileobj(io.BytesIO(b'x' * 2048){sep}{where}{config}{callback})"
    if method == 'copy':
        src = "{'Bucket': 'cov-bucket', 'Key': 'cov-source'}"
        return f"{recv}.copy({src}{sep}{where}{config}{callback})"
    if method == 'download_file':
        where = {'client': "'cov-bucket', 'cov-source'", 'Bucket': "'cov-source'", 'Object': ''}[owner]
        sep = ', ' if where else ''
        return f"{recv}.download_file({where}{sep}'downloaded.bin'{config})"
    if method == 'download_fileobj':
        where = {'client': "'cov-bucket', 'cov-source'", 'Bucket': "'cov-source'", 'Object': ''}[owner]
        sep = ', ' if where else ''
        return f"{recv}.download_fileobj({where}{sep}io.BytesIO(){config})"
    raise KeyError(method)


TRANSFER_SETUP = """
client.create_bucket(Bucket='cov-bucket')
client.put_object(Bucket='cov-bucket', Key='cov-source', Body=b's' * 2048)
with open('payload.bin', 'wb') as f:
    f.write(b'p' * 2048)
"""


def _transfer_fixture(Fixture, owner, method, side):
    kind = 'copy' if method == 'copy' else 'upload' if method.startswith('upload') else 'download'
    objects = {'client': "s3 = boto3.client('s3')",
               'Bucket': "s3 = boto3.resource('s3')\nbucket = s3.Bucket('cov-bucket')",
               'Object': "s3 = boto3.resource('s3')\nobj = s3.Object('cov-bucket', "
                         + ("'cov-source')" if kind == 'download' else "'cov-dest')")}[owner]
    head = 'import io\n\nimport boto3\n'
    if side != 'small':
        head += 'from boto3.s3.transfer import TransferConfig\n'
    head += '\n' + objects + '\n'
    if side != 'small':
        head += TRANSFER_CONFIG
    if side == 'abort':
        head += TRANSFER_INTERRUPT
    call = _transfer_call(owner, method, side)
    if side == 'abort':
        body = f'try:\n    {call}\nexcept Interrupted:\n    pass'
    else:
        body = call
    app = head.strip('\n') + '\n\n\ndef handler():\n' + '\n'.join('    ' + l for l in body.split('\n')) + '\n'
    setup = "import boto3\n\nclient = boto3.client('s3')\n" + TRANSFER_SETUP.strip('\n') + '\n'
    label = {'small': 'below the multipart threshold', 'multipart': 'above the multipart threshold',
             'abort': 'a multipart transfer that fails'}[side]
    if kind == 'download':
        # Above the threshold a download is several ranged GetObjects.
        expect, maybe, must, must_not = [('s3', 'HeadObject'), ('s3', 'GetObject')], [], [], []
    elif kind == 'upload':
        expect, maybe = [], [('s3', op) for op in UPLOAD_OPS]
        m, mn = TRANSFER_SIDES['upload'][side]
        must, must_not = [('s3', op) for op in m], [('s3', op) for op in mn]
    else:
        expect, maybe = [('s3', 'HeadObject')], [('s3', op) for op in COPY_OPS]
        m, mn = TRANSFER_SIDES['copy'][side]
        must, must_not = [('s3', op) for op in m], [('s3', op) for op in mn]
    name = f'{owner}.{method}' + ('' if side == 'small' else f'.{side}')
    return Fixture(f's3/{name}.fixture', f's3 {owner}.{method}, {label} (injected by boto3)', app, setup,
                   expect=expect, maybe=maybe, must=must, must_not=must_not, kind='transfer')


def injected_fixtures(Fixture, setup_text, injected):
    """One fixture per method boto3 injects (per side, for the transfers).
    `injected` is what gen.py found on the live classes: every method there
    must be covered here, and nothing else."""
    out = []
    covered = set()
    transfers = ('upload_file', 'upload_fileobj', 'download_file', 'download_fileobj', 'copy')
    for owner in ('client', 'Bucket', 'Object'):
        for method in transfers:
            covered.add(('s3', owner, method))
            sides = ('small', 'multipart') if method.startswith('download') else ('small', 'multipart', 'abort')
            for side in sides:
                out.append(_transfer_fixture(Fixture, owner, method, side))
    covered |= {('s3', 'Bucket', 'load'), ('s3', 'ObjectSummary', 'load'), ('dynamodb', 'Table', 'batch_writer'),
                ('ec2', 'Instance', 'delete_tags')}
    # Bucket has no load in its model: boto3 lists the buckets and picks
    # this one.
    out.append(Fixture(
        's3/Bucket.load.fixture', 's3 Bucket.load (injected by boto3: ListBuckets)',
        "import boto3\n\ns3 = boto3.resource('s3')\n\n\ndef handler():\n    s3.Bucket('cov-bucket').load()\n",
        "import boto3\n\nboto3.client('s3').create_bucket(Bucket='cov-bucket')\n",
        expect=[('s3', 'ListBuckets')]))
    out.append(Fixture(
        's3/ObjectSummary.load.fixture', 's3 ObjectSummary.load (injected by boto3: HeadObject)',
        "import boto3\n\ns3 = boto3.resource('s3')\n\n\n"
        "def handler():\n    s3.ObjectSummary('cov-bucket', 'cov-key').load()\n",
        "import boto3\n\nclient = boto3.client('s3')\nclient.create_bucket(Bucket='cov-bucket')\n"
        "client.put_object(Bucket='cov-bucket', Key='cov-key', Body=b'x')\n",
        expect=[('s3', 'HeadObject')]))
    out.append(Fixture(
        'dynamodb/Table.batch_writer.fixture',
        'dynamodb Table.batch_writer (injected by boto3: BatchWriteItem when the writer flushes)',
        "import boto3\n\ndynamodb = boto3.resource('dynamodb')\n\n\ndef handler():\n"
        "    with dynamodb.Table('cov-table').batch_writer() as writer:\n"
        "        writer.put_item(Item={'id': 'b'})\n        writer.delete_item(Key={'id': 'a'})\n",
        "import boto3\n\nclient = boto3.client('dynamodb')\n" + TABLE.strip('\n') + '\n',
        expect=[('dynamodb', 'BatchWriteItem')]))
    out.append(Fixture(
        'ec2/Instance.delete_tags.fixture', 'ec2 Instance.delete_tags (injected by boto3: DeleteTags)',
        "import os\n\nimport boto3\n\nec2 = boto3.resource('ec2')\n\n\ndef handler():\n"
        "    ec2.Instance(os.environ['INSTANCE_ID']).delete_tags(Tags=[{'Key': 'team'}])\n",
        "import os\n\nimport boto3\n\nos.environ['MOTO_EC2_LOAD_DEFAULT_AMIS'] = 'false'\n"
        "client = boto3.client('ec2')\n"
        "image = client.register_image(Name='cov-ami', RootDeviceName='/dev/sda1')['ImageId']\n"
        "instance = client.run_instances(ImageId=image, MinCount=1, MaxCount=1)['Instances'][0]['InstanceId']\n"
        "client.create_tags(Resources=[instance], Tags=[{'Key': 'team', 'Value': 'cov'}])\n"
        "os.environ['INSTANCE_ID'] = instance\n",
        expect=[('ec2', 'DeleteTags')]))
    live = {(svc, owner, m) for (svc, owner), methods in injected.items() for m in methods}
    # Methods botocore itself adds to every client; they send nothing
    # (presigned URLs are covered by tests/fixtures/analysis).
    live -= {(svc, 'client', m) for svc, _, _ in live for m in ('meta', 'generate_presigned_url',
                                                                 'generate_presigned_post')}
    missing, extra = live - covered, covered - live
    if missing or extra:
        raise ValueError(f'injected methods not covered: {sorted(missing)}; covered but not injected: {sorted(extra)}')
    return out



# --------------------------------------------------------------------------
# Irregular operation -> IAM action mappings that run against moto:
# {(client, Operation): (setup code, the app's call on `client`)}. The other
# rows of irregular.txt get placeholder arguments and a short-circuit.
# --------------------------------------------------------------------------

_DDB_TABLE = "client = boto3.client('dynamodb')\n" + TABLE
_S3_BUCKET = """
client = boto3.client('s3')
client.create_bucket(Bucket='cov-bucket')
client.put_object(Bucket='cov-bucket', Key='cov-key', Body=b'hello')
"""


def _s3(setup_extra, call):
    return (_S3_BUCKET + textwrap.dedent(setup_extra), call)


IRREGULAR_CALLS = {
    # One transaction per item kind: each is sent as TransactWriteItems,
    # whose IAM mapping lists the per-item actions.
    ('dynamodb', 'TransactWriteItems'): (_DDB_TABLE, """
client.transact_write_items(TransactItems=[{'Put': {'TableName': 'cov-table', 'Item': {'id': {'S': 'b'}}}}])
client.transact_write_items(TransactItems=[{'Update': {'TableName': 'cov-table', 'Key': {'id': {'S': 'a'}},
                                                       'UpdateExpression': 'SET n = :n',
                                                       'ExpressionAttributeValues': {':n': {'N': '2'}}}}])
client.transact_write_items(TransactItems=[
    {'ConditionCheck': {'TableName': 'cov-table', 'Key': {'id': {'S': 'a'}},
                        'ConditionExpression': 'attribute_exists(id)'}},
    {'Put': {'TableName': 'cov-table', 'Item': {'id': {'S': 'c'}}}}])
client.transact_write_items(TransactItems=[{'Delete': {'TableName': 'cov-table', 'Key': {'id': {'S': 'a'}}}}])
"""),
    ('dynamodb', 'TransactGetItems'): (_DDB_TABLE, """
client.transact_get_items(TransactItems=[{'Get': {'TableName': 'cov-table', 'Key': {'id': {'S': 'a'}}}}])
"""),
    ('dynamodb', 'ExecuteStatement'): (_DDB_TABLE, """
client.execute_statement(Statement="SELECT * FROM \\"cov-table\\" WHERE id = 'a'")
"""),
    ('dynamodb', 'BatchExecuteStatement'): (_DDB_TABLE, """
client.batch_execute_statement(Statements=[{'Statement': "SELECT * FROM \\"cov-table\\" WHERE id = 'a'"}])
"""),
    ('sqs', 'SendMessageBatch'): ("client = boto3.client('sqs')\nclient.create_queue(QueueName='cov-queue')\n", """
client.send_message_batch(QueueUrl='https://sqs.us-east-1.amazonaws.com/123456789012/cov-queue',
                          Entries=[{'Id': '1', 'MessageBody': 'hello'}])
"""),
    ('sns', 'PublishBatch'): ("client = boto3.client('sns')\nclient.create_topic(Name='cov-topic')\n", """
client.publish_batch(TopicArn='arn:aws:sns:us-east-1:123456789012:cov-topic',
                     PublishBatchRequestEntries=[{'Id': '1', 'Message': 'hello'}])
"""),
    ('sts', 'GetCallerIdentity'): ('', 'client.get_caller_identity()'),
    ('cloudwatch', 'GetMetricData'): ('', """
client.get_metric_data(MetricDataQueries=[{'Id': 'q', 'MetricStat': {
    'Metric': {'Namespace': 'Coverage', 'MetricName': 'Hits'}, 'Period': 60, 'Stat': 'Sum'}}],
    StartTime='2024-01-01T00:00:00Z', EndTime='2024-01-02T00:00:00Z')
"""),
    ('s3', 'ListObjects'): _s3('', "client.list_objects(Bucket='cov-bucket')"),
    ('s3', 'ListObjectsV2'): _s3('', "client.list_objects_v2(Bucket='cov-bucket')"),
    ('s3', 'HeadObject'): _s3('', "client.head_object(Bucket='cov-bucket', Key='cov-key')"),
    ('s3', 'HeadBucket'): _s3('', "client.head_bucket(Bucket='cov-bucket')"),
    ('s3', 'ListBuckets'): _s3('', 'client.list_buckets()'),
    ('s3', 'DeleteObjects'): _s3('', "client.delete_objects(Bucket='cov-bucket', Delete={'Objects': [{'Key': 'cov-key'}]})"),
    ('s3', 'CopyObject'): _s3('', "client.copy_object(Bucket='cov-bucket', Key='cov-copy', "
                                  "CopySource={'Bucket': 'cov-bucket', 'Key': 'cov-key'})"),
    ('s3', 'GetBucketLocation'): _s3('', "client.get_bucket_location(Bucket='cov-bucket')"),
    ('s3', 'ListObjectVersions'): _s3('', "client.list_object_versions(Bucket='cov-bucket')"),
    ('s3', 'ListMultipartUploads'): _s3('', "client.list_multipart_uploads(Bucket='cov-bucket')"),
    ('s3', 'GetBucketCors'): _s3("""
        client.put_bucket_cors(Bucket='cov-bucket', CORSConfiguration={
            'CORSRules': [{'AllowedMethods': ['GET'], 'AllowedOrigins': ['*']}]})
        """, "client.get_bucket_cors(Bucket='cov-bucket')"),
    ('s3', 'PutBucketCors'): _s3('', "client.put_bucket_cors(Bucket='cov-bucket', CORSConfiguration={\n"
                                     "    'CORSRules': [{'AllowedMethods': ['GET'], 'AllowedOrigins': ['*']}]})"),
    ('s3', 'DeleteBucketCors'): _s3('', "client.delete_bucket_cors(Bucket='cov-bucket')"),
    ('s3', 'GetBucketPolicyStatus'): _s3(f"""
        client.put_bucket_policy(Bucket='cov-bucket', Policy='{S3_POLICY}')
        """, "client.get_bucket_policy_status(Bucket='cov-bucket')"),
    ('s3', 'DeleteBucketPolicy'): _s3('', "client.delete_bucket_policy(Bucket='cov-bucket')"),
    ('s3', 'DeleteBucketTagging'): _s3('', "client.delete_bucket_tagging(Bucket='cov-bucket')"),
    ('s3', 'DeleteBucketWebsite'): _s3('', "client.delete_bucket_website(Bucket='cov-bucket')"),
    ('s3', 'DeleteBucketEncryption'): _s3('', "client.delete_bucket_encryption(Bucket='cov-bucket')"),
    ('s3', 'PutBucketEncryption'): _s3('', "client.put_bucket_encryption(Bucket='cov-bucket', "
                                           "ServerSideEncryptionConfiguration={'Rules': [{\n"
                                           "    'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})"),
    ('s3', 'GetBucketEncryption'): _s3("""
        client.put_bucket_encryption(Bucket='cov-bucket', ServerSideEncryptionConfiguration={'Rules': [{
            'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})
        """, "client.get_bucket_encryption(Bucket='cov-bucket')"),
    ('s3', 'PutBucketLifecycleConfiguration'): _s3('', (
        "client.put_bucket_lifecycle_configuration(Bucket='cov-bucket', LifecycleConfiguration={'Rules': [\n"
        "    {'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Expiration': {'Days': 1}}]})")),
    ('s3', 'GetBucketLifecycleConfiguration'): _s3("""
        client.put_bucket_lifecycle_configuration(Bucket='cov-bucket', LifecycleConfiguration={'Rules': [
            {'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Expiration': {'Days': 1}}]})
        """, "client.get_bucket_lifecycle_configuration(Bucket='cov-bucket')"),
    ('s3', 'DeleteBucketLifecycle'): _s3('', "client.delete_bucket_lifecycle(Bucket='cov-bucket')"),
    ('s3', 'GetBucketNotificationConfiguration'): _s3(
        '', "client.get_bucket_notification_configuration(Bucket='cov-bucket')"),
    ('s3', 'PutBucketNotificationConfiguration'): _s3(
        '', "client.put_bucket_notification_configuration(Bucket='cov-bucket', NotificationConfiguration={})"),
    ('s3', 'GetBucketAccelerateConfiguration'): _s3('', "client.get_bucket_accelerate_configuration(Bucket='cov-bucket')"),
    ('s3', 'PutBucketAccelerateConfiguration'): _s3('', (
        "client.put_bucket_accelerate_configuration(Bucket='cov-bucket', "
        "AccelerateConfiguration={'Status': 'Enabled'})")),
    ('s3', 'PutPublicAccessBlock'): _s3('', (
        "client.put_public_access_block(Bucket='cov-bucket', "
        "PublicAccessBlockConfiguration={'BlockPublicAcls': True})")),
    ('s3', 'GetPublicAccessBlock'): _s3("""
        client.put_public_access_block(Bucket='cov-bucket', PublicAccessBlockConfiguration={'BlockPublicAcls': True})
        """, "client.get_public_access_block(Bucket='cov-bucket')"),
    ('s3', 'DeletePublicAccessBlock'): _s3('', "client.delete_public_access_block(Bucket='cov-bucket')"),
    ('s3', 'DeleteObjectTagging'): _s3('', "client.delete_object_tagging(Bucket='cov-bucket', Key='cov-key')"),
    ('s3', 'GetObjectAttributes'): _s3('', (
        "client.get_object_attributes(Bucket='cov-bucket', Key='cov-key', ObjectAttributes=['ETag'])")),
    ('s3', 'CreateMultipartUpload'): _s3('', "client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')"),
    ('s3', 'UploadPart'): _s3("""
        UPLOAD_ID = client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')['UploadId']
        import os
        os.environ['UPLOAD_ID'] = UPLOAD_ID
        """, "import os\nclient.upload_part(Bucket='cov-bucket', Key='cov-upload', UploadId=os.environ['UPLOAD_ID'], "
             "PartNumber=1, Body=b'part')"),
    ('s3', 'UploadPartCopy'): _s3("""
        UPLOAD_ID = client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')['UploadId']
        import os
        os.environ['UPLOAD_ID'] = UPLOAD_ID
        """, "import os\nclient.upload_part_copy(Bucket='cov-bucket', Key='cov-upload', "
             "UploadId=os.environ['UPLOAD_ID'],\n"
             "                        PartNumber=1, CopySource={'Bucket': 'cov-bucket', 'Key': 'cov-key'})"),
    ('s3', 'ListParts'): _s3("""
        UPLOAD_ID = client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')['UploadId']
        import os
        os.environ['UPLOAD_ID'] = UPLOAD_ID
        """, "import os\nclient.list_parts(Bucket='cov-bucket', Key='cov-upload', UploadId=os.environ['UPLOAD_ID'])"),
    ('s3', 'CompleteMultipartUpload'): _s3("""
        import os
        UPLOAD_ID = client.create_multipart_upload(Bucket='cov-bucket', Key='cov-upload')['UploadId']
        ETAG = client.upload_part(Bucket='cov-bucket', Key='cov-upload', UploadId=UPLOAD_ID, PartNumber=1,
                                  Body=b'part')['ETag']
        os.environ['UPLOAD_ID'], os.environ['ETAG'] = UPLOAD_ID, ETAG
        """, "import os\nclient.complete_multipart_upload(Bucket='cov-bucket', Key='cov-upload', "
             "UploadId=os.environ['UPLOAD_ID'],\n"
             "                                 MultipartUpload={'Parts': [{'ETag': os.environ['ETAG'], "
             "'PartNumber': 1}]})"),
}