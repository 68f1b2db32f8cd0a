"""Settings of the migguard Django test project (test/django/django_test.py).

The database is reached through libpq's environment: PGHOST, PGPORT and
PGUSER; PGDATABASE names the database (the test sets it to its own,
migguard_django).  contrib/django_migguard.py must be on PYTHONPATH: its app
config tags every migration's DDL in migguard.change_log with
'<app>.<migration name>'.
"""
import os

SECRET_KEY = "migguard-test-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = []

INSTALLED_APPS = [
    "django_migguard.MigguardConfig",
    "shop",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "migguard_django"),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        "USER": os.environ.get("PGUSER", ""),
        # Shows up in migguard.change_log.application_name.
        "OPTIONS": {"application_name": "django"},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
