import boto3


class Catalog:
    def __init__(self, table_name):
        self.table = boto3.resource('dynamodb').Table(table_name)

    def add(self, key, size):
        self.table.put_item(Item={'key': key, 'size': size})

    def all_items(self):
        return self.table.scan()['Items']
