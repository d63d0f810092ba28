"""The crash test (issue 19): submissions under load while gunicorn workers are killed and
PostgreSQL restarts; see ``test_crash.py``."""
