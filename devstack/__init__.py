"""Start reex's processes on loopback, for the tests and the benchmark alike.

``stack.running_stack`` starts the production shape (PostgreSQL, Redis, gunicorn, a Celery
worker, an SMTP sink); ``dev.running_dev_stack`` starts ``make run``'s embedded defaults
(SQLite, the filesystem broker, file mail, runserver, worker and beat). Both stop every
process they started, on exit or on a failed start.
"""
