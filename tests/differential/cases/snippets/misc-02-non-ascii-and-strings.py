from chalice import Chalice
import boto3
app = Chalice(app_name='snip')
# é — ünïcödé comments and strings
GREETING = 'héllo wörld ✓'
@app.route('/')
def index():
    return boto3.client('translate').translate_text(Text=GREETING, SourceLanguageCode='fr', TargetLanguageCode='en')
