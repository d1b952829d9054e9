"""Locality-sensitive hashing of MinHash signatures: bands x rows chosen for a similarity threshold, and
the candidate groups the bands produce."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

_GRID = np.linspace(0.0, 1.0, 201)


def lsh_parameters(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) with bands x rows <= num_perm minimising the area of false positives (pairs below
    ``threshold`` that share a band) plus false negatives (pairs above it that share none); candidates are
    verified afterwards, so both only cost time or recall, never a wrong answer."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    above = threshold < _GRID
    below = ~above

    def error(bands: int, rows: int) -> float:
        shared = 1.0 - (1.0 - _GRID**rows) ** bands
        return float(shared[below].sum() + (1.0 - shared[above]).sum())

    candidates = (
        (bands, rows) for rows in range(1, num_perm + 1) for bands in range(1, num_perm // rows + 1)
    )
    return min(candidates, key=lambda pair: error(*pair))


def band_groups(signatures: NDArray[np.uint64], bands: int, rows: int) -> Iterator[NDArray[np.intp]]:
    """For each band, the row indices (ascending) of signatures equal on that band, groups of 2 or more."""
    for band in range(bands):
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        boundaries = np.cumsum(counts)[:-1]
        for group in np.split(order, boundaries):
            if len(group) > 1:
                yield group
