"""The API key test collectors are started with. One module, imported by name: two conftest.py files both
imported as ``conftest`` would shadow each other's constants depending on collection order."""

COLLECTOR_API_KEY = "test-key"
