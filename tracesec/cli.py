"""The ``tracesec`` command. One subcommand per job: ``tracesec collector`` runs the analysis service,
``tracesec demo`` shows the whole product on an example shop in about a minute, ``tracesec config`` shows
the settings the agent would use here."""

from __future__ import annotations

import argparse
import ipaddress
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tracesec import __version__

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracesec", description="tracesec: API security for Python apps")
    parser.add_argument("--version", action="version", version=f"tracesec {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_collector(commands)
    _add_demo(commands)
    _add_config(commands)
    args = parser.parse_args(argv)
    run: Command = args.run
    return run(args)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def _non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else _positive(text)


def _add_collector(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from tracesec.collector.settings import API_KEYS_VARIABLE, CollectorSettings, default_db_path

    defaults = CollectorSettings(db_path=default_db_path())
    parser = commands.add_parser(
        "collector",
        help="run the reference analysis service",
        description="Receive batches from tracesec agents (POST /v1/batches), store them in SQLite "
        "and serve the query API. Without an API key it only listens on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=4319, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--db",
        type=Path,
        default=defaults.db_path,
        help="SQLite file, created if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help=f"accepted bearer key; repeat for several; also read from {API_KEYS_VARIABLE} (comma-separated)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=defaults.max_body_bytes,
        help="largest batch accepted, before and after decompression (default: %(default)s)",
    )
    parser.add_argument(
        "--queue-size",
        type=_positive,
        default=defaults.queue_size,
        help="batches waiting to be written before senders get 429 (default: %(default)s)",
    )
    parser.add_argument(
        "--retention-days",
        type=_non_negative_number,
        default=defaults.retention_days,
        help="delete spans, events and aggregates older than this; 0 keeps them (default: %(default)s)",
    )
    parser.add_argument(
        "--max-db-mb",
        type=_non_negative_int,
        default=0,
        help="while the database uses more megabytes, delete its oldest spans and events; 0: no limit "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--retention-interval",
        type=_positive_number,
        default=defaults.retention_interval_seconds,
        metavar="SECONDS",
        help="how often retention is applied (default: %(default)s)",
    )
    parser.add_argument(
        "--drift-grace-minutes",
        type=_non_negative_number,
        default=defaults.drift_grace_minutes,
        help="a new service's learning period: no api_drift events before it (default: %(default)s)",
    )
    parser.add_argument(
        "--block-seconds",
        type=_positive_number,
        default=defaults.block_seconds,
        help="how long an actor blocked by the collector stays blocked on every agent (default: %(default)s)",
    )
    parser.add_argument(
        "--block-min-instances",
        type=_positive,
        default=defaults.block_min_instances,
        help="instances that must flag an actor before it is blocked everywhere (default: %(default)s)",
    )
    parser.add_argument(
        "--analysis-interval",
        type=_positive_number,
        default=defaults.analysis_interval_seconds,
        metavar="SECONDS",
        help="how often baselines advance and cached behaviour analysis is renewed (default: %(default)s)",
    )
    parser.add_argument(
        "--baseline-bucket-seconds",
        type=_positive,
        default=defaults.baseline_bucket_seconds,
        help="width of an endpoint baseline's bucket; a season is 24 of them (default: %(default)s)",
    )
    parser.add_argument(
        "--analysis-window-hours",
        type=_positive_number,
        default=defaults.analysis_window_hours,
        help="recent traffic the flow graph and actor clusters are computed from (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="(default: %(default)s)",
    )
    parser.set_defaults(run=_run_collector, parser=parser)


def _run_collector(args: argparse.Namespace) -> int:
    from tracesec.collector.settings import CollectorSettings, api_keys_from_env

    try:
        import uvicorn

        from tracesec.collector.app import create_app
    except ImportError as exc:
        print(
            f"tracesec collector: {exc}; install it with: pip install 'tracesec[collector]'", file=sys.stderr
        )
        return 1
    from tracesec.collector.store import StoreError

    keys = frozenset(key for key in args.api_key if key) | api_keys_from_env()
    if not keys and not _is_loopback(args.host):
        args.parser.error(
            f"refusing to listen on {args.host} without an API key: anyone who can reach it could read "
            "and write your data. Pass --api-key KEY (or set TRACESEC_COLLECTOR_API_KEYS), "
            "or listen on 127.0.0.1."
        )
    settings = CollectorSettings(
        db_path=args.db,
        api_keys=keys,
        max_body_bytes=args.max_body_bytes,
        queue_size=args.queue_size,
        retention_days=args.retention_days or None,
        max_db_mb=args.max_db_mb or None,
        retention_interval_seconds=args.retention_interval,
        drift_grace_minutes=args.drift_grace_minutes,
        block_seconds=args.block_seconds,
        block_min_instances=args.block_min_instances,
        analysis_interval_seconds=args.analysis_interval,
        baseline_bucket_seconds=args.baseline_bucket_seconds,
        analysis_window_hours=args.analysis_window_hours,
    )
    try:
        app = create_app(settings)
    except StoreError as exc:
        print(f"tracesec collector: {exc}", file=sys.stderr)
        return 1
    print(
        f"tracesec collector: listening on http://{args.host}:{args.port}, database {settings.db_path}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="see tracesec at work on an example shop API in about a minute",
        description="Start a collector on a temporary database and an instrumented example shop API "
        "(agent in block mode), send it normal users and every attack type, print what was found and "
        "blocked, then keep the collector running for its dashboard until Ctrl-C.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=4319,
        help="collector and dashboard port; 0: any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--shop-port",
        type=int,
        default=8400,
        help="example shop's port; 0: any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite file to keep the data in (default: a temporary file)"
    )
    stay = parser.add_mutually_exclusive_group()
    stay.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="keep the collector up this long after the summary, then exit (default: until Ctrl-C)",
    )
    stay.add_argument(
        "--no-wait", action="store_const", const=0.0, dest="duration", help="exit right after the summary"
    )
    parser.set_defaults(run=_run_demo, parser=parser)


def _run_demo(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        print(f"tracesec demo: {exc}; install it with: pip install 'tracesec[collector]'", file=sys.stderr)
        return 1
    from tracesec.demo.runner import DemoError, DemoOptions, run_demo

    if args.duration is not None and args.duration < 0:
        args.parser.error(f"--duration: expected a number of seconds of at least 0, got {args.duration:g}")
    options = DemoOptions(port=args.port, shop_port=args.shop_port, db_path=args.db, duration=args.duration)
    try:
        run_demo(options, say=lambda line: print(line, flush=True))
    except DemoError as exc:
        print(f"tracesec demo: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"tracesec demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tracesec demo: interrupted", file=sys.stderr)
        return 130
    return 0


_SECRET_SETTINGS = ("_API_KEY", "_HASH_KEY", "_SECRET", "_TOKEN", "_PASSWORD")


def _add_config(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "config",
        help="show the settings tracesec would use here (TRACESEC_* environment and defaults)",
        description="Print every setting with the value the agent would use in this environment; with "
        "--markdown, the reference table of docs/configuration.md (defaults, accepted values, meaning).",
    )
    parser.add_argument("--markdown", action="store_true", help="the reference table instead of the values")
    parser.set_defaults(run=_run_config)


def _run_config(args: argparse.Namespace) -> int:
    from tracesec.config import Config, ConfigError
    from tracesec.redaction import REDACTED

    if args.markdown:
        print("| variable | default | accepts | meaning |\n|---|---|---|---|")
        for info in Config().describe():
            print(f"| `{info.variable}` | `{info.default}` | {info.accepted} | {info.doc} |")
        return 0
    try:
        settings = Config.load().describe()
    except ConfigError as exc:
        print(f"tracesec config: {exc}", file=sys.stderr)
        return 2
    width = max(len(info.variable) for info in settings)
    for info in settings:
        note = "" if info.value == info.default else "   (set)"
        value = REDACTED if info.value and info.variable.endswith(_SECRET_SETTINGS) else info.value
        print(f"{info.variable:<{width}}  {value}{note}")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
