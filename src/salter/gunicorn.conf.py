"""gunicorn settings for ``make run`` and production (override with GUNICORN_CMD_ARGS)."""

import multiprocessing
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")

workers = int(os.environ.get("SALTER_WORKERS", min(4, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("SALTER_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 100_000  # recycle workers now and then, not every few seconds under load
max_requests_jitter = 10_000
accesslog = "-"
access_log_format = (
    '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": %(B)s, "ms": %(M)s}'
)
