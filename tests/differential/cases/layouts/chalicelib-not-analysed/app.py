from chalice import Chalice
from chalicelib.db import table_scan
app = Chalice(app_name='layout')
@app.route('/')
def index():
    return table_scan()
