"""A bare Flask "hello", served by gunicorn like the app: the yardstick of the throughput figure."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
