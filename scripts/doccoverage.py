#!/usr/bin/env python3
"""Fails unless docc's coverage output shows every public symbol documented.

Reads the documentation-coverage.json that `generate-documentation
--experimental-documentation-coverage` writes into an archive. A symbol
without an abstract (no doc comment, or a comment without a summary line) is
undocumented; a top-level symbol that no topic group of the landing page
lists is uncurated. Both fail, with the symbol's path and what to do.
Compiler-synthesized members (`!=`, inherited defaults) are left out by
generating with `--experimental-skip-synthesized-symbols`.

usage: doccoverage.py ARCHIVE...
"""
import json
import os
import sys

TOP_LEVEL_KINDS = {"Structure", "Enumeration", "Class", "Protocol", "Type Alias",
                   "Function", "Global Variable", "Operator", "Macro"}


def check(archive):
    path = os.path.join(archive, "documentation-coverage.json")
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    module = os.path.basename(archive.rstrip("/")).removesuffix(".doccarchive")
    symbols = [e for e in entries if e["kind"]["isSymbol"]]
    problems = []
    for e in symbols:
        ref = e["referencePath"].split("/documentation/", 1)[-1]
        if not e["hasAbstract"]:
            problems.append(f"{ref}: undocumented {e['kind']['name'].lower()}: add a /// summary line "
                            f"(or a documentation extension in the catalog for a compiler-made symbol)")
        depth = ref.count("/")   # "E2EE/Session" is top level
        if depth == 1 and e["kind"]["name"] in TOP_LEVEL_KINDS and not e["isCurated"]:
            problems.append(f"{ref}: not in a topic group of {module}.docc/{module}.md")
    if len(symbols) < 2:
        problems.append(f"{path}: only {len(symbols)} symbols: was the archive built with the coverage flag?")
    for p in problems:
        print(f"doccoverage: {p}", file=sys.stderr)
    print(f"doccoverage: {module}: {len(symbols)} symbols, {len(problems)} problems")
    return not problems


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [check(a) for a in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)
