"""S3 storage through the resource API, which chalice's autogen does not see."""
import boto3

BUCKET = 'media-library-uploads'

s3 = boto3.resource('s3')
bucket = s3.Bucket(BUCKET)


def save(key, body):
    bucket.put_object(Key=key, Body=body)


def link(key):
    # 署名付き URL: no request is sent, but the URL is signed with the role.
    return s3.meta.client.generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': key}, ExpiresIn=3600)


def delete_all(prefix):
    bucket.objects.filter(Prefix=prefix).delete()
