"""Runtime protection: pure detectors that say whether a user input changed what a sink will do.

Each ``detect_*`` function takes the value reaching the sink and one user input, and returns True when
that input, present in the value, changed its structure or meaning. They do no I/O and keep no state.
"""

from __future__ import annotations

from tracesec.protect.addresses import is_internal_address, is_metadata_address, parse_host_address
from tracesec.protect.path import detect_path_traversal
from tracesec.protect.shell import detect_shell_injection, shell_command_from_argv
from tracesec.protect.sql_tokenizer import DIALECTS
from tracesec.protect.sqli import detect_sql_injection
from tracesec.protect.ssrf import detect_ssrf, is_internal_host

__all__ = [
    "DIALECTS",
    "detect_path_traversal",
    "detect_shell_injection",
    "detect_sql_injection",
    "detect_ssrf",
    "is_internal_address",
    "is_internal_host",
    "is_metadata_address",
    "parse_host_address",
    "shell_command_from_argv",
]
