"""Small mergeable sketches: counts per key, distinct counts, set similarity, quantiles.

Each serialises to compact bytes (``to_bytes``/``from_bytes``) or JSON (``to_json``/``from_json``) and
merges (``a.merged(b)``); ``merge_snapshots`` is the collector's merge of shipped state.
"""

from tracesec.sketches._codec import SketchFormatError
from tracesec.sketches.base import Sketch
from tracesec.sketches.countmin import CountMin
from tracesec.sketches.hyperloglog import HyperLogLog
from tracesec.sketches.minhash import MinHash
from tracesec.sketches.quantiles import QuantileSketch
from tracesec.sketches.snapshot import (
    entry_sketch,
    merge,
    merge_snapshots,
    sketch_from_bytes,
    snapshot_entry,
)
from tracesec.sketches.windows import WindowedCountMin, window_start

__all__ = [
    "CountMin",
    "HyperLogLog",
    "MinHash",
    "QuantileSketch",
    "Sketch",
    "SketchFormatError",
    "WindowedCountMin",
    "entry_sketch",
    "merge",
    "merge_snapshots",
    "sketch_from_bytes",
    "snapshot_entry",
    "window_start",
]
