"""Helpers shared by the test suites: servers on loopback ports, the file transport's records, raw HTTP, and
small example apps (``tests/support/apps``)."""
