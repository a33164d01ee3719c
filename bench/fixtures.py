"""Deterministic benchmark fixtures: Chalice projects of realistic shape.

Every fixture is a pure function of its parameters (no randomness, no
clock), so two runs, or two machines, measure the same bytes. Blocks rotate
through templates by index; the templates use dynamodb, s3, sqs and sns as
clients and as resources, the ways real Chalice apps do, with comments in
several scripts (multi-byte UTF-8 exercises the position conversions).
"""
import json
import os

# Comments in several scripts and widths: Latin accents (2 bytes), CJK
# (3 bytes), emoji (4 bytes; 2 UTF-16 code units).
NOTES = [
    '# Vérifie la commande avant de l\'écrire — reçu n°{i}',
    '# 注文を確認してから保存する ({i})',
    '# Überprüfe den Warenkorb, dann 🚀 versenden #{i}',
    '# Проверяем очередь сообщений {i}',
    '# ζ-step {i}: σύνοψη της παραγγελίας ✓',
]

HEADER = '''\
"""Orders service — generated benchmark app (café, 日本語, ✓)."""
import json
import os
import uuid

import boto3
from boto3.dynamodb.conditions import Attr, Key
from chalice import Chalice

app = Chalice(app_name='bench-orders')

# Clients chalice's analyzer tracks, and resources it does not.
ddb = boto3.client('dynamodb')
s3 = boto3.client('s3')
sqs = boto3.client('sqs')
sns = boto3.client('sns')
dynamodb = boto3.resource('dynamodb')
s3_resource = boto3.resource('s3')
sqs_resource = boto3.resource('sqs')
sns_resource = boto3.resource('sns')

ORDERS = dynamodb.Table(os.environ.get('ORDERS_TABLE', 'orders'))
BUCKET = os.environ.get('BUCKET', 'bench-orders-bucket')
QUEUE_URL = os.environ.get('QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/orders')
TOPIC_ARN = os.environ.get('TOPIC_ARN', 'arn:aws:sns:us-east-1:123456789012:orders')
'''


def _route(i):
    return f'''

{NOTES[i % len(NOTES)].format(i=i)}
@app.route('/orders/{i}/{{order_id}}', methods=['GET'])
def get_order_{i}(order_id):
    item = ddb.get_item(TableName='orders', Key={{'id': {{'S': order_id}}}})
    if 'Item' not in item:
        return {{'error': 'not found', 'id': order_id}}
    body = s3.get_object(Bucket=BUCKET, Key=f'orders/{{order_id}}.json')['Body'].read()
    return {{'order': item['Item'], 'body': json.loads(body)}}


@app.route('/orders/{i}', methods=['POST'])
def create_order_{i}():
    payload = app.current_request.json_body or {{}}
    order_id = str(uuid.uuid4())
    ORDERS.put_item(Item={{'id': order_id, 'total': payload.get('total', 0)}})
    s3.put_object(Bucket=BUCKET, Key=f'orders/{{order_id}}.json', Body=json.dumps(payload))
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({{'id': order_id}}))
    sns.publish(TopicArn=TOPIC_ARN, Message=f'created {{order_id}}')
    return {{'id': order_id}}
'''


def _helpers(i):
    return f'''

{NOTES[(i + 1) % len(NOTES)].format(i=i)}
def recent_orders_{i}(customer, limit=25):
    table = dynamodb.Table('orders-by-customer')
    response = table.query(KeyConditionExpression=Key('customer').eq(customer), Limit=limit)
    items = list(response.get('Items', []))
    while 'LastEvaluatedKey' in response and len(items) < limit:
        response = table.query(
            KeyConditionExpression=Key('customer').eq(customer),
            ExclusiveStartKey=response['LastEvaluatedKey'],
        )
        items.extend(response.get('Items', []))
    return items[:limit]


def archive_prefix_{i}(prefix):
    bucket = s3_resource.Bucket(BUCKET)
    moved = 0
    for summary in bucket.objects.filter(Prefix=prefix):
        s3_resource.Object(BUCKET, 'archive/' + summary.key).copy_from(
            CopySource={{'Bucket': BUCKET, 'Key': summary.key}}
        )
        summary.delete()
        moved += 1
    return moved


def stale_orders_{i}(days):
    # Un scan complet : coûteux, mais rare.
    result = ORDERS.scan(FilterExpression=Attr('age').gt(days))
    return [row['id'] for row in result.get('Items', [])]
'''


def _queue_worker(i):
    return f'''

{NOTES[(i + 2) % len(NOTES)].format(i=i)}
@app.on_sqs_message(queue='orders-{i}', batch_size=5)
def handle_orders_{i}(event):
    queue = sqs_resource.Queue(QUEUE_URL)
    for record in event:
        message = json.loads(record.body)
        ORDERS.update_item(
            Key={{'id': message['id']}},
            UpdateExpression='SET #s = :s',
            ExpressionAttributeNames={{'#s': 'status'}},
            ExpressionAttributeValues={{':s': 'processed'}},
        )
        if message.get('retry'):
            queue.send_message(MessageBody=record.body, DelaySeconds=30)
    topic = sns_resource.Topic(TOPIC_ARN)
    topic.publish(Message='batch of orders processed')


def drain_dead_letters_{i}(url):
    handled = 0
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = batch.get('Messages', [])
        if not messages:
            break
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])
            handled += 1
    return handled
'''


def _reports(i):
    return f'''

{NOTES[(i + 3) % len(NOTES)].format(i=i)}
class Report{i}:
    """Monthly report {i}: rows from DynamoDB, a CSV in S3, a notice by SNS."""

    def __init__(self, bucket=BUCKET):
        self.bucket = bucket
        self.client = boto3.client('s3')
        self.table = boto3.resource('dynamodb').Table('reports')

    def rows(self, month):
        paginator = ddb.get_paginator('query')
        out = []
        for page in paginator.paginate(
            TableName='reports',
            KeyConditionExpression='#m = :m',
            ExpressionAttributeNames={{'#m': 'month'}},
            ExpressionAttributeValues={{':m': {{'S': month}}}},
        ):
            out.extend(page.get('Items', []))
        return out

    def publish(self, month):
        rows = self.rows(month)
        body = '\\n'.join(','.join(str(v) for v in r.values()) for r in rows)
        key = f'reports/{{month}}/report-{i}.csv'
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body.encode('utf-8'))
        self.table.put_item(Item={{'month': month, 'key': key, 'rows': len(rows)}})
        url = self.client.generate_presigned_url('get_object', Params={{'Bucket': self.bucket, 'Key': key}})
        sns.publish(TopicArn=TOPIC_ARN, Subject='Rapport prêt', Message=url)
        return url


@app.schedule('rate(1 day)', name='report-{i}')
def nightly_report_{i}(event):
    return Report{i}().publish(event.time[:7])
'''


TEMPLATES = [_route, _helpers, _queue_worker, _reports]


def app_text(lines, imports=()):
    """An app.py of about `lines` lines; `imports` are chalicelib modules it
    imports and calls from a route each."""
    out = [HEADER]
    for m in imports:
        out.append(f'from chalicelib import {m}\n')
    for n, m in enumerate(imports):
        out.append(f'''

@app.route('/lib/{n}')
def lib_{n}():
    return {m}.entry_point('{n}')
''')
    _fill(out, lines, lambda i: TEMPLATES[i % len(TEMPLATES)](i), 'ORDERS')
    return ''.join(out)


def module_text(name, lines, neighbour=None):
    """A chalicelib module of about `lines` lines, with clients, resources,
    a class, and (when `neighbour` is given) a call into another module."""
    out = [f'''"""{name}: storage helpers (généré; 生成されたモジュール)."""
import json

import boto3
from boto3.dynamodb.conditions import Key
''']
    if neighbour:
        out.append(f'from chalicelib import {neighbour}\n')
    out.append(f'''
_TABLE = boto3.resource('dynamodb').Table('{name}')
_S3 = boto3.client('s3')
_QUEUE = boto3.resource('sqs').Queue('https://sqs.us-east-1.amazonaws.com/123456789012/{name}')


def entry_point(key):
    item = _TABLE.get_item(Key={{'id': key}}).get('Item')
    _QUEUE.send_message(MessageBody=json.dumps({{'key': key}}))
    {f"{neighbour}.lookup(key)" if neighbour else "pass"}
    return item


def lookup(key):
    return _TABLE.query(KeyConditionExpression=Key('id').eq(key))['Items']
''')
    _fill(out, lines, lambda i: TEMPLATES[(i + 1) % len(TEMPLATES)](i).replace('@app.', '# @app.'), '_TABLE')
    return ''.join(out)


def _fill(out, lines, block, table):
    """Appends template blocks while they fit in `lines`, then small
    five-line helpers up to exactly `lines` lines (or one more)."""
    count = sum(t.count('\n') for t in out)
    i = 0
    while True:
        b = block(i)
        if count + b.count('\n') > lines:
            break
        out.append(b)
        count += b.count('\n')
        i += 1
    n = 0
    while count < lines:
        out.append(f'\n\ndef fetch_{n}(key):\n    return {table}.get_item(Key={{"id": key, "n": {n}}})\n')
        count += 4
        n += 1


CONFIG = {
    'version': '2.0',
    'app_name': 'bench-orders',
    'stages': {
        'dev': {'api_gateway_stage': 'api'},
        'prod': {'api_gateway_stage': 'api', 'autogen_policy': False, 'iam_policy_file': 'policy-prod.json'},
    },
}

PROD_POLICY = {
    'Version': '2012-10-17',
    'Statement': [
        {
            'Effect': 'Allow',
            'Action': ['dynamodb:GetItem', 'dynamodb:PutItem', 's3:GetObject', 's3:PutObject', 'sqs:SendMessage'],
            'Resource': '*',
        },
        {
            'Effect': 'Allow',
            'Action': ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
            'Resource': 'arn:*:logs:*:*:*',
        },
    ],
}


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return  # unchanged: keep the mtime and the page cache warm
    except OSError:
        pass
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def write_project(root, app_lines, modules=0, module_lines=0, packages=0):
    """Writes a project: app.py, .chalice config with two stages (autogen
    and a policy file), and `modules` chalicelib modules, spread over
    `packages` sub-packages when that is non-zero."""
    _write(os.path.join(root, '.chalice', 'config.json'), json.dumps(CONFIG, indent=2) + '\n')
    _write(os.path.join(root, '.chalice', 'policy-prod.json'), json.dumps(PROD_POLICY, indent=2) + '\n')
    paths = []
    for n in range(modules):
        if packages:
            pkg = f'pkg_{n % packages:03d}'
            paths.append((f'{pkg}/mod_{n // packages:03d}', f'{pkg}.mod_{n // packages:03d}'))
        else:
            paths.append((f'mod_{n:03d}', f'mod_{n:03d}'))
    _write(os.path.join(root, 'chalicelib', '__init__.py'), '')
    for p in {p.split('/')[0] for p, _ in paths if '/' in p}:
        _write(os.path.join(root, 'chalicelib', p, '__init__.py'), '')
    for n, (path, dotted) in enumerate(paths):
        # Each module calls the next one in the same package (imports
        # between modules exercise the cross-module evaluation).
        neighbour = None
        if not packages and n + 1 < len(paths):
            neighbour = paths[n + 1][1]
        _write(os.path.join(root, 'chalicelib', path + '.py'), module_text(dotted, module_lines, neighbour))
    imports = [d for _, d in paths[:20] if '.' not in d]
    _write(os.path.join(root, 'app.py'), app_text(app_lines, imports))
    return root


FIXTURES = {
    # name: (description, app lines, modules, lines per module, packages)
    'app-5k': ('app.py, 5,000 lines', 5000, 0, 0, 0),
    'project-50k': ('app.py + 200 chalicelib modules, 50,000 lines', 5000, 200, 225, 0),
    'tree-1m': ('app.py + 10,000 chalicelib modules in 100 packages, 1,000,000 lines', 1000, 10000, 100, 100),
}


def ensure(base, name):
    """Writes fixture `name` under `base` (unchanged files are not
    rewritten) and returns its root."""
    _, app_lines, modules, module_lines, packages = FIXTURES[name]
    return write_project(os.path.join(base, name), app_lines, modules, module_lines, packages)


def count_lines(root):
    total = files = 0
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith('.py'):
                with open(os.path.join(d, n), 'rb') as f:
                    total += f.read().count(b'\n')
                files += 1
    return files, total
