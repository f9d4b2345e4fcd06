"""The WSGI entry point gunicorn serves, and the app `flask --app wsgi` commands run in."""
from matchmaker import create_app

app = create_app()
