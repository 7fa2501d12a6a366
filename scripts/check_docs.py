#!/usr/bin/env python3
"""The docs name only what exists: every repository path and every variant name they mention.

    python3 scripts/check_docs.py [--bench BUILD/sparse24_bench] [--repo DIR] [-v]

What is read (the documents a user reads, and the comments a reader of the code reads):
  README.md, docs/*.md, results/NOTES.md, and the comments (`//`, or `#` in scripts and CMake files) of every file
  under kernels/, harness/, tests/ and scripts/, of CMakeLists.txt, the Makefile and .ci/run.
results/README.md is not read: it is generated from the files it links (scripts/make_results_readme.py, whose
--check CI runs).

What is checked:
  1. Paths: every token that starts with kernels/, harness/, scripts/, tests/, docs/ or results/ must exist on disk
     (file or folder), and so must every relative markdown link target `[text](path)` of a .md file (relative to
     that file). Tokens with a placeholder are patterns, not paths, and are skipped: `<gpu>`, `sNN_`, `*`, `{a,b}`,
     `...`, `X`-wildcards like `s0X`, or a regex character. A results file may be named as written, without the
     `.gz` it is stored under once over 20 KiB (scripts/results_files.py); a markdown link must name the stored file.
  2. Variant names: every `<family>.sNN...` token, where <family> is a folder kernels/<family>/ with a family.cmake,
     must name a registered variant (the whole name), or a prefix of one at a `.` boundary (`mma_sp.s03_cpasync`,
     `mma_sp.s03_cpasync.bf16`), or a step by number (`wgmma_sp.s08`). The registered names come from the built
     benchmark, `sparse24_bench --list-json` (--bench; the CTest entry "docs: paths and variant names" passes it).
     A family that this build left out (the wgmma families under CMake 3.24, no sm_90a) is checked against its
     step files instead: kernels/<family>/sNN_<technique>.cuh. Without --bench only the step files are checked.

results/NOTES.md is a log, and a log names what existed when it was written. It is checked in full all the same
(a wrong name in a new entry is a mistake like any other); a name of the past, a variant or file since removed or
renamed, goes into HISTORICAL below with the reason, and only there may it be named without existing.

Exit 0 when everything named exists, 1 otherwise (each failure printed as FILE:LINE: what). Python 3.9+, standard
library only.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_files as rf  # noqa: E402  (a results file is named without the .gz it may be stored under)

REPO = Path(__file__).resolve().parent.parent

# Names and paths of the past that results/NOTES.md may still mention (the log is not rewritten). One entry each,
# with the reason; everything else must exist.
HISTORICAL: dict = {
}

PATH_ROOTS = ("kernels", "harness", "scripts", "tests", "docs", "results")
# A path token: a root folder, then path characters. Placeholders are caught afterwards (PLACEHOLDER).
PATH_RE = re.compile(r"(?<![A-Za-z0-9_./-])((?:%s)/[A-Za-z0-9_.<>*{},/-]*)([\[(|^$+?\\]?)" % "|".join(PATH_ROOTS))
# Patterns, not paths: <placeholder>, sNN/XX wildcards, globs, brace lists, ellipses (and a regex character right
# after the token: PATH_RE's second group).
PLACEHOLDER = re.compile(r"[<>*{}]|\.\.\.|(?:^|[/_.])s?(?:NN|XX)(?:[_./]|$)")
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A variant-name token: family.sNN then name characters. The look-behind keeps `wgmma_dense.s02` from also
# reading as `dense.s02`, and a path's `mma_sp/s03` is not a name.
NAME_CHARS = r"[A-Za-z0-9_.]"


def documents(repo: Path):
    """(path, [(line number, text)]) for every document and every kernel file's comments."""
    md = [repo / "README.md"] + sorted((repo / "docs").glob("*.md")) + [repo / "results" / "NOTES.md"]
    for p in md:
        if p.is_file():
            yield p, list(enumerate(p.read_text(encoding="utf-8").splitlines(), 1))
    code = [p for d in ("kernels", "harness", "tests", "scripts") for p in sorted((repo / d).rglob("*"))]
    code += [repo / "CMakeLists.txt", repo / "Makefile", repo / ".ci" / "run"]
    for p in code:
        marker = COMMENT.get(p.suffix if p.suffix else p.name)
        if not p.is_file() or marker is None:
            continue
        lines = []
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            i = line.find(marker)
            if i >= 0:
                lines.append((n, line[i + len(marker):]))
        yield p, lines


# Comment markers by file suffix (or name): the comments of code files are read, not their code.
COMMENT = {".h": "//", ".cuh": "//", ".cu": "//", ".cpp": "//", ".def": "//", ".inc": "//", ".py": "#", ".sh": "#",
           ".cmake": "#", ".txt": "#", "Makefile": "#", "run": "#"}


def families(repo: Path) -> list:
    return sorted(p.parent.name for p in (repo / "kernels").glob("*/family.cmake"))


def step_files(repo: Path, family: str) -> list:
    """['s01_global', ...]: the family's step headers on disk."""
    return sorted(p.stem for p in (repo / "kernels" / family).glob("s[0-9][0-9]_*.cuh"))


def registered_names(bench: str) -> list:
    out = subprocess.run([bench, "--list-json"], check=True, capture_output=True, text=True).stdout
    return [v["name"] for v in json.loads(out)]


def clean_path(token: str) -> str:
    # Trailing punctuation of the sentence, and a markdown/code quote, are not part of the path.
    return token.rstrip(".,;:'`\"")


def check_paths(repo: Path, doc: Path, lines) -> list:
    failures = []
    for n, text in lines:
        for m in PATH_RE.finditer(text):
            token = clean_path(m.group(1))
            if m.group(2) or PLACEHOLDER.search(token) or token in HISTORICAL:
                continue
            if not rf.stored(repo / token).exists():
                failures.append(f"{doc.relative_to(repo)}:{n}: no such path: {token}")
        if doc.suffix == ".md":
            for m in LINK_RE.finditer(text):
                target = m.group(1).split("#", 1)[0]
                if not target or re.match(r"[a-z]+:", target):
                    continue  # an anchor or a URL
                if not (doc.parent / target).exists() and target not in HISTORICAL:
                    failures.append(f"{doc.relative_to(repo)}:{n}: broken link: {m.group(1)}")
    return failures


def name_ok(token: str, family: str, registered: list, steps: dict) -> bool:
    """`family.sNN`, `family.sNN_technique` or `family.sNN_technique.<more>`: the step must exist exactly (a
    registered variant's step, or for a family not in this build its step file), and <more> must begin some
    registered name of that step (a whole name, or the start of one as a regex or a prefix writes it)."""
    step, _, more = token[len(family) + 1:].partition(".")
    fam_names = [r for r in registered if r.startswith(family + ".")]
    if fam_names:
        known = {r[len(family) + 1:].split(".", 1)[0] for r in fam_names}
    else:  # not in this build (or no --bench): the step files on disk; the rest of the name cannot be checked
        known = set(steps[family])
    if re.fullmatch(r"s\d\d", step):
        return any(k.startswith(step + "_") for k in known)
    if step not in known:
        return False
    return not more or not fam_names or any(r.startswith(token) for r in fam_names)


def check_names(repo: Path, doc: Path, lines, fams: list, registered: list, steps: dict) -> list:
    failures = []
    name_re = re.compile(r"(?<![A-Za-z0-9_./-])(%s)\.s\d\d(?:_[a-z0-9]+)?(?:\.%s+)?" % ("|".join(fams), NAME_CHARS))
    for n, text in lines:
        for m in name_re.finditer(text):
            token = m.group(0).rstrip(".")
            if token in HISTORICAL:
                continue
            if not name_ok(token, m.group(1), registered, steps):
                failures.append(f"{doc.relative_to(repo)}:{n}: no such variant or step: {token}")
    return failures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--bench", help="the built sparse24_bench (its --list-json gives the registered names)")
    ap.add_argument("--repo", default=str(REPO), help="repository root (default: this script's)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    repo = Path(args.repo).resolve()

    fams = families(repo)
    steps = {f: step_files(repo, f) for f in fams}
    registered = registered_names(args.bench) if args.bench else []
    built = sorted({r.split(".", 1)[0] for r in registered})
    if not fams:
        print("check_docs: no kernels/<family>/family.cmake found: nothing to check names against")
        return 1

    failures, docs = [], 0
    for doc, lines in documents(repo):
        docs += 1
        failures += check_paths(repo, doc, lines)
        failures += check_names(repo, doc, lines, fams, registered, steps)
    for f in failures:
        print(f"FAIL {f}")
    left_out = [f for f in fams if f not in built]
    print(f"check_docs: {docs} files read; variant names checked against "
          f"{f'{len(registered)} registered variants' if registered else 'no registry (no --bench)'}"
          f"{'; step files only for ' + ', '.join(left_out) if left_out else ''}; "
          f"{len(failures)} failure{'s' if len(failures) != 1 else ''}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
