"""The database: SQLite under VAR_DIR unless DATABASE_URL names one; psycopg's pool."""

from reex.conf.core import VAR_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'reex.sqlite3'}"),
}
# Connections per process are bounded by psycopg's pool, whatever the server: a threaded
# server (runserver) that kept one connection per request thread ran PostgreSQL out of its
# 100 connections at 30 requests/s. REEX_DB_POOL_SIZE=0 keeps one per thread instead.
DB_POOL_SIZE = env.int("REEX_DB_POOL_SIZE", default=4)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a request gives its connection back
    # A connection that died while pooled (PostgreSQL restarted) is replaced before it is
    # handed out, instead of failing one request with 503 (Django passes the pool a check).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": env.float("REEX_DB_POOL_TIMEOUT", default=10.0),
            "max_idle": 300,
        }
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("REEX_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let web, worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
