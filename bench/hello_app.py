"""A bare Flask hello-world: the baseline bench_load.py serves under the same gunicorn settings as the site."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
