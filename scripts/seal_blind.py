"""Keep a frozen blind set in the repository without its text being readable there.

A blind set is frozen by committing its sha256 (``data/eval/<stem>.sha256``); its labelled file
joins ``data/eval`` only when it is scored. Until then it used to live beside the checkout, and
blind v19 and v20 were lost with the machine that held them (docs/blind-sets.md). So the file is
now committed sealed as well: zlib-compressed and XOR-ed with a SHAKE-256 keystream of the set's
name, in ``data/eval/sealed/<stem>.jsonl.sealed``. This is not secrecy (the key is the name, and
this script opens it); it keeps the text out of grep, editors, loaders and helper sessions that
read the repository, so no decision sees it by accident. Only this script and the test that checks
a sealed file opens to its frozen hash unseal one.

Usage: python scripts/seal_blind.py seal FILE            # FILE's hash must be frozen already
       python scripts/seal_blind.py open NAME [--out PATH]  # checks the frozen hash, writes the file
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import zlib
from pathlib import Path

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
SEALED = EVAL / "sealed"


def _keystream(name: str, size: int) -> bytes:
    return hashlib.shake_256(f"newsflow blind seal: {name}".encode()).digest(size)


def seal(plain: bytes, name: str) -> bytes:
    """The sealed form of ``plain`` for the set ``name`` (e.g. "events_blind21.jsonl")."""
    packed = zlib.compress(plain, 9)
    return bytes(a ^ b for a, b in zip(packed, _keystream(name, len(packed))))


def unseal(sealed: bytes, name: str) -> bytes:
    """The file ``seal`` sealed (ValueError when ``sealed`` is not a sealed ``name``)."""
    try:
        return zlib.decompress(bytes(a ^ b for a, b in zip(sealed, _keystream(name, len(sealed)))))
    except zlib.error as e:
        raise ValueError(f"not a sealed {name}: {e}") from None


def frozen_digest(name: str, folder: Path | None = None) -> str:
    """The sha256 committed for ``name`` when it was frozen."""
    path = (folder or EVAL) / (Path(name).stem + ".sha256")
    if not path.exists():
        raise SystemExit(f"seal_blind: {path} is missing: freeze the set (commit its sha256) first")
    fields = path.read_text(encoding="utf-8").split()
    if len(fields) < 2:
        raise SystemExit(f"seal_blind: {path} is not a sha256sum line (digest, then file name)")
    digest, frozen_name = fields[0], fields[1].lstrip("*")
    if frozen_name != name:
        raise SystemExit(f"seal_blind: {path} freezes {frozen_name}, not {name}")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("seal", help="write data/eval/sealed/<name>.sealed from a frozen blind file")
    s.add_argument("file", type=Path)
    o = sub.add_parser("open", help="write a sealed blind file back out, its frozen hash checked")
    o.add_argument("name", help='the file\'s name, e.g. "events_blind21.jsonl"')
    o.add_argument("--out", type=Path, help="where to write it (default: data/eval/<name>, as when it is scored)")
    args = parser.parse_args(argv)
    if args.command == "seal":
        plain = args.file.read_bytes()
        digest = frozen_digest(args.file.name)
        if hashlib.sha256(plain).hexdigest() != digest:
            print(f"seal_blind: {args.file} does not match its frozen hash {digest[:12]}", file=sys.stderr)
            return 1
        SEALED.mkdir(parents=True, exist_ok=True)
        target = SEALED / (args.file.name + ".sealed")
        target.write_bytes(seal(plain, args.file.name))
        print(f"sealed {args.file} ({len(plain)} bytes, sha256 {digest[:12]}) into {target}")
        return 0
    source = SEALED / (args.name + ".sealed")
    if not source.exists():
        print(f"seal_blind: no sealed file {source}", file=sys.stderr)
        return 1
    try:
        plain = unseal(source.read_bytes(), args.name)
    except ValueError as e:
        print(f"seal_blind: {source}: {e}", file=sys.stderr)
        return 1
    digest = frozen_digest(args.name)
    if hashlib.sha256(plain).hexdigest() != digest:
        print(f"seal_blind: {source} does not open to the frozen hash {digest[:12]}", file=sys.stderr)
        return 1
    out = args.out or EVAL / args.name
    out.write_bytes(plain)
    print(f"opened {source} into {out} (sha256 {digest[:12]}, as frozen)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
