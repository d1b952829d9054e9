"""Small example apps the tests serve (in process, or in a server subprocess as
``tests.support.apps.<module>:app``). Environment switches read at import time:

- ``TEST_TRACESEC_INSTALL``: ``before`` (tracesec.install() before the framework is imported), ``after``
  (after the app is built) or unset (the test or a middleware installs it);
- ``TEST_MIDDLEWARE=1``: add the framework's explicit tracesec middleware;
- ``TEST_HANDLE_ERRORS=1``: give the app its own catch-all error handling.
"""
