"""What storing a group of batches means: raw rows plus every aggregate the query API reads (merged
endpoints and drift, merged sketches, actors, dependencies, blocks), in one transaction, so the
aggregates never disagree with the rows they were computed from and a failed write leaves neither.

``prepare`` runs in the request handler (off the writer thread): it checks the sketch and inventory
sections against their formats and merges the batch's own sketch windows, so a bad record is a 400 for
its sender rather than a failure of the whole group.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from tracesec.collector.actors import fold_activity
from tracesec.collector.blocklist import BlockPolicy, PushedBlocklist, active_blocks, fold_block_decisions
from tracesec.collector.inventory import check_inventory, fold_inventory
from tracesec.collector.servicemap import fold_dependencies
from tracesec.collector.sketches import fold_sketches, merge_batch_sketches
from tracesec.collector.store import Stored, write_batch


def prepare(batch: dict[str, Any]) -> dict[str, Any]:
    """Check the sections the wire validator leaves open and merge the batch's sketch windows; raises
    InvalidBatch. The batch is returned with its sketches merged."""
    if "inventory" in batch:
        check_inventory(batch["inventory"])
    if "sketches" in batch:
        batch["sketches"] = merge_batch_sketches(batch["sketches"])
    return batch


class Ingest:
    def __init__(self, policy: BlockPolicy, drift_grace_seconds: float) -> None:
        self.policy = policy
        self.drift_grace_ns = int(drift_grace_seconds * 1e9)
        self.blocklist = PushedBlocklist()

    def load(self, conn: sqlite3.Connection) -> None:
        """Pick up the blocks in force from a previous run."""
        self.blocklist.replace(active_blocks(conn, time.time_ns()))

    def write(self, conn: sqlite3.Connection, batches: Sequence[tuple[dict[str, Any], int]]) -> list[Stored]:
        """Store prepared (batch, received time) pairs in one transaction: every batch whole, or (on an
        error) none of them; a batch_id already stored is acknowledged without writing it again.

        Writing the batches that queued up together in one commit is what keeps ingest fast under load:
        index pages that several batches touch are written once."""
        blocks_changed = False
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored = []
            for batch, received_ns in batches:
                result = write_batch(conn, batch, received_ns)
                if not result.duplicate:
                    blocks_changed |= self._fold(conn, batch, received_ns)
                stored.append(result)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if blocks_changed:
            self.load(conn)
        return stored

    def _fold(self, conn: sqlite3.Connection, batch: dict[str, Any], received_ns: int) -> bool:
        service = batch["resource"]["service.name"]
        instance = batch["resource"]["service.instance.id"]
        spans = batch.get("spans", ())
        events = batch.get("events", ())
        fold_inventory(conn, service, instance, batch.get("inventory", ()), received_ns, self.drift_grace_ns)
        fold_sketches(conn, service, batch.get("sketches", ()))
        fold_activity(conn, service, spans, events)
        fold_dependencies(conn, service, spans)
        return fold_block_decisions(conn, self.policy, instance, events, received_ns)
