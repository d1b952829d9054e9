"""API discovery: endpoint inventory, inferred schemas (OpenAPI 3.1), auth schemes and sensitive-data
labels.

Agent side: :class:`Discovery` (a record processor plus an export contributor). Analysis side: pure
functions over endpoint records (:func:`merge_endpoint_records`, :func:`build_openapi`,
:func:`diff_inventory`, :func:`risk`). The record format is documented in docs/discovery.md.
"""

from tracesec.discovery.drift import diff_inventory
from tracesec.discovery.inventory import Discovery
from tracesec.discovery.openapi import build_openapi
from tracesec.discovery.records import merge_endpoint_records
from tracesec.discovery.risk import risk

__all__ = ["Discovery", "build_openapi", "diff_inventory", "merge_endpoint_records", "risk"]
