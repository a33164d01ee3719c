from chalice import Chalice
app = Chalice(app_name='layout')
@app.route('/')
def index():
    def inner():
        return 1
    return inner()
