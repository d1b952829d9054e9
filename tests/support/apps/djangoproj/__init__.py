"""Django example project: ``tests.support.apps.djangoproj.wsgi:application`` / ``.asgi:application``."""
