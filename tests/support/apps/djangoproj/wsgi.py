from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.apps.djangoproj.settings")

from tests.support.apps.switches import install_if  # noqa: E402

install_if("before")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
install_if("after")
