"""Secrets keys: `python -m app.secrets rotate` re-encrypts every stored secret with the first of SECRETS_KEYS;
`python -m app.secrets new-key` prints a fresh Fernet key to put first.

Rotation: set SECRETS_KEYS=new,old on every process and restart them (both keys decrypt, the new one encrypts),
run `rotate` (exit 0 once every secret is under the new key), then drop the old key. Only counts and row ids are
printed, never a secret."""

from __future__ import annotations

import argparse
import sys

from app.core.config import ConfigError, get_settings
from app.core.logging import configure_logging
from app.services import secret_rotation


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.secrets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser("rotate", help="re-encrypt every stored secret with the first of SECRETS_KEYS")
    rotate.add_argument(
        "--batch-size", type=int, default=secret_rotation.DEFAULT_BATCH_SIZE, help="rows per transaction"
    )
    rotate.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    commands.add_parser("new-key", help="print a new Fernet key (to put first in SECRETS_KEYS)")
    return parser


def _rotate(batch_size: int, dry_run: bool) -> int:
    report = secret_rotation.rotate_secrets(batch_size=batch_size, dry_run=dry_run)
    verb = "to re-encrypt" if dry_run else "re-encrypted"
    for column in report.columns:
        sys.stdout.write(
            f"{column.column}: {column.rotated} {verb}, {column.current} already under the first key, "
            f"{column.failed} not decryptable with any key\n"
        )
        for org_id, row_id in column.failed_rows:
            sys.stdout.write(f"  not decryptable: organization {org_id}, id {row_id}\n")
    if not report.ok:
        sys.stdout.write("Some secrets were left as they are: add the key they were encrypted with to SECRETS_KEYS.\n")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "new-key":
        from cryptography.fernet import Fernet

        sys.stdout.write(Fernet.generate_key().decode() + "\n")
        return 0
    try:
        get_settings()
    except ConfigError as exc:
        sys.stderr.write(f"painel: {exc}\n")
        return 2
    configure_logging(force=True)
    return _rotate(args.batch_size, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
