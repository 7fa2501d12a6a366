#!/usr/bin/env python3
"""Results files as stored: a text file over 20 KiB is kept gzipped, under its name with `.gz` added.

    python3 scripts/results_files.py [--check] [DIR ...]     (DIR defaults to results/)

Why: a device call carries the whole working tree, 64 MiB at most (the device tool's limit), and the committed runs
had grown to 54 MB of text, 44 MB of it JSON reports. Gzipped, the same files take a tenth of that, losslessly.

The rule (STORED_GZIPPED below): a file under results/ whose suffix is one of TEXT_SUFFIXES and whose size is over
MAX_PLAIN_BYTES is stored as NAME.gz, never beside a plain NAME. The documents a reader opens on the page stay plain
whatever their size: *.md (README.md, NOTES.md, overhead.md), command.txt and environment.txt.

Without --check: compresses every file the rule names (gzip level 9, no name and mtime 0 in the header, so the same
text gives the same bytes), and removes the plain file; a NAME.gz beside a plain NAME is replaced by the plain
NAME's text (the plain file is the newer: a resumed sweep's rows.jsonl). With --check: changes nothing, prints each
file the rule would change, and exits 1 if there is one (CTest "results: large text files stored gzipped").

Readers: every script that reads results goes through read_text(), glob() and logical() below, so a path may name a
file with or without its `.gz` (`.../bench.json` finds `.../bench.json.gz`), and the names the scripts print (the
dispatch table's sources, the results README's run labels) are the logical names, the same before and after a
file is compressed. Python 3.9+, standard library only.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GZ = ".gz"
MAX_PLAIN_BYTES = 20 * 1024
TEXT_SUFFIXES = (".json", ".jsonl", ".log", ".csv", ".txt")
KEEP_PLAIN = ("command.txt", "environment.txt")


def logical(path) -> Path:
    """The file's name as written: bench.json for bench.json.gz."""
    p = Path(path)
    return p.with_name(p.name[: -len(GZ)]) if p.name.endswith(GZ) else p


def stored(path) -> Path:
    """The file on disk for a logical or stored name: NAME if it exists, else NAME.gz if that exists, else NAME."""
    p = Path(path)
    if p.exists() or p.name.endswith(GZ):
        return p
    gz = p.with_name(p.name + GZ)
    return gz if gz.exists() else p


def read_text(path, errors: str = "strict") -> str:
    """The text of a results file, named with or without its .gz (UTF-8)."""
    p = stored(path)
    if p.name.endswith(GZ):
        with gzip.open(p, "rt", encoding="utf-8", errors=errors) as f:
            return f.read()
    return p.read_text(encoding="utf-8", errors=errors)


def _dedup(paths) -> list:
    """Stored paths sorted by logical name, one per logical name (the plain file over its .gz)."""
    best: dict = {}
    for p in paths:
        key = logical(p)
        if key not in best or not p.name.endswith(GZ):
            best[key] = p
    return [best[k] for k in sorted(best)]


def glob(folder, pattern: str) -> list:
    """folder.glob(pattern) over logical names: the stored files whose logical name matches, in logical order."""
    folder = Path(folder)
    return _dedup(list(folder.glob(pattern)) + list(folder.glob(pattern + GZ)))


def rglob(folder, pattern: str) -> list:
    folder = Path(folder)
    return _dedup(list(folder.rglob(pattern)) + list(folder.rglob(pattern + GZ)))


def stored_gzipped(path: Path, size: int) -> bool:
    """The rule: a text file over MAX_PLAIN_BYTES, not a page document, is stored gzipped."""
    return path.suffix in TEXT_SUFFIXES and path.name not in KEEP_PLAIN and size > MAX_PLAIN_BYTES


def gzip_bytes(text: bytes) -> bytes:
    # No file name and mtime 0 in the header: the same text always gives the same bytes (git sees no change).
    return gzip.compress(text, compresslevel=9, mtime=0)


def pending(folder: Path) -> list:
    """[(plain file, why)] for each file the rule would compress under folder."""
    out = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.endswith(GZ):
            continue
        size = p.stat().st_size
        gz = p.with_name(p.name + GZ)
        if stored_gzipped(p, size):
            out.append((p, f"{size} bytes, over {MAX_PLAIN_BYTES}"))
        elif gz.exists():
            out.append((p, f"both {p.name} and {gz.name}"))
    return out


def compress(path: Path) -> Path:
    gz = path.with_name(path.name + GZ)
    gz.write_bytes(gzip_bytes(path.read_bytes()))
    path.unlink()
    return gz


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file breaks the rule")
    ap.add_argument("dirs", nargs="*", type=Path, default=[REPO / "results"])
    a = ap.parse_args(argv)
    todo = [(p, why) for d in a.dirs for p, why in pending(d)]
    for p, why in todo:
        if a.check:
            print(f"{p}: {why}: store it as {p.name}{GZ} (python3 scripts/results_files.py)")
        else:
            print(f"{compress(p)} ({why})")
    if a.check:
        if not todo:
            print(f"every text file over {MAX_PLAIN_BYTES} bytes under {', '.join(map(str, a.dirs))} is gzipped")
        return 1 if todo else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
