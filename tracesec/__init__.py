"""tracesec: an in-process API-security agent for Python web applications."""

__version__ = "0.1.0"
