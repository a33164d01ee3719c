from chalice import Chalice
app = Chalice(app_name='layout')
@app.on_ws_connect()
def connect(event):
    pass
