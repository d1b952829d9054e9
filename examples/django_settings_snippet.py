"""What a Django project adds to settings.py to use the explicit middleware (optional: tracesec.install()
in manage.py / wsgi.py / asgi.py, or tracesec-run, instruments Django without it)."""

MIDDLEWARE = [
    "tracesec.integrations.django.TracesecMiddleware",  # first, so it sees every request
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
]
