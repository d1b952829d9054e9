"""``tracesec demo``: a collector, an instrumented shop API in block mode, normal users and every attack
type, then a summary and the dashboard URL. See docs/demo.md."""
