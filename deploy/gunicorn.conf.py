"""gunicorn settings for the platform behind nginx: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (the systemd unit reads /etc/matchmaker/matchmaker.env).
"""
import multiprocessing
import os

env = os.environ.get

# nginx talks to gunicorn on the loopback interface only.
bind = env("GUNICORN_BIND", "127.0.0.1:8000")

# Pages are short database-and-template work with some CPU (ranking, console aggregates): sync workers,
# the classic 2 × cores + 1. Each worker holds at most DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW
# connections to PostgreSQL (deploy/README.md sizes them together).
workers = int(env("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

# The monthly Excel report and a full search rebuild are the slowest requests (seconds, not minutes).
timeout = int(env("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# nginx keeps connections to the upstream open for a few seconds.
keepalive = 5

# A worker is replaced after this many requests (plus jitter, so they do not all restart together):
# the ranking model and the search index readers are loaded again, memory stays flat.
max_requests = 2000
max_requests_jitter = 200

# Each worker builds its own app and database pool: nothing opened before the fork is shared.
preload_app = False

# Only nginx (on this machine) may tell gunicorn the scheme through X-Forwarded-Proto; the app's own
# ProxyFix (TRUSTED_PROXIES=1) reads X-Forwarded-For/-Proto/-Host for addresses, HTTPS and Secure cookies.
forwarded_allow_ips = env("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Access log to stdout (journald): the client's address as nginx saw it, the request, the status, the
# size, the time taken in microseconds, the referrer and the browser.
accesslog = "-"
errorlog = "-"
loglevel = env("GUNICORN_LOGLEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s"'

proc_name = "matchmaker-web"
