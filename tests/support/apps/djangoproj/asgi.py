from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.apps.djangoproj.settings")

from tests.support.apps.switches import install_if  # noqa: E402

install_if("before")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
install_if("after")
