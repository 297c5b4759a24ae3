"""``python -m sfsync.emulator serve``: run an emulator as a process until SIGTERM/SIGINT.

Prints one JSON line on stdout with the instance URL, the CA path, credentials (and the path of
the JWT private key), the admin token and a ready access token. :func:`main` is reusable by the
``sfsync emulator serve`` command.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import structlog

from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.faults import config_from_json
from sfsync.emulator.harness import Emulator
from sfsync.logging import configure as configure_logging


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``serve``."""
    parser = argparse.ArgumentParser(prog="python -m sfsync.emulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve an emulated org over HTTPS on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--seed", default=None, help="seed data: capricorn or synthetic:N")
    serve.add_argument("--latency-ms", type=int, default=0, help="latency added to every data request")
    serve.add_argument(
        "--pricing-delay-s", type=float, default=None, help="seconds a new quote stays in price calculation"
    )
    serve.add_argument(
        "--assetize-delay-s",
        type=float,
        default=None,
        help="seconds between order activation and assetization",
    )
    serve.add_argument("--faults", default=None, help='fault rules as JSON: {"seed": 1, "rules": [...]}')
    serve.add_argument("--state-dir", type=Path, default=None, help="keep the database and TLS files here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until a signal arrives; returns the exit code."""
    args = build_parser().parse_args(argv)
    if not structlog.is_configured():
        # stdout carries exactly one JSON line; logs (seed loading, errors) go to stderr.
        configure_logging(stream=sys.stderr)
    config = EmulatorConfig(latency_ms=args.latency_ms)
    if args.pricing_delay_s is not None:
        config.pricing_delay_s = args.pricing_delay_s
    if args.assetize_delay_s is not None:
        config.assetize_delay_s = args.assetize_delay_s
    if args.faults:
        try:
            config.faults = config_from_json(args.faults)
        except ValueError as exc:
            print(f"error: --faults: {exc}", file=sys.stderr)
            return 2
    emulator = Emulator(config, seed=args.seed, port=args.port, state_dir=args.state_dir)
    handle = emulator.handle()
    key_path = None
    if handle.private_key_pem:
        key_path = emulator.state_dir / "jwt-private-key.pem"
        key_path.write_text(handle.private_key_pem)
        key_path.chmod(0o600)
    line = {
        "instance_url": handle.base_url, "login_url": handle.login_url, "ca_path": str(handle.ca_path),
        "client_id": handle.client_id, "client_secret": handle.client_secret, "username": handle.username,
        "password": handle.password, "private_key_path": str(key_path) if key_path else None,
        "admin_token": handle.admin_token, "access_token": handle.access_token(),
        "org_id": handle.org.org_id, "user_id": handle.org.user_id,
    }  # fmt: skip
    print(json.dumps(line), flush=True)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever, which runs on this thread: stop from another one.
        threading.Thread(target=emulator.server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        emulator.server.serve_forever()
    finally:
        emulator.org.close()
    return 0
