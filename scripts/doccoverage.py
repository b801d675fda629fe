#!/usr/bin/env python3
"""Fails unless docc's coverage output shows every public symbol documented.

Reads the documentation-coverage.json that `generate-documentation
--experimental-documentation-coverage` writes into an archive. A symbol
without an abstract (no doc comment, or a comment without a summary line) is
undocumented; a top-level symbol that no topic group of the catalog's landing
page (Sources/<Module>/<Module>.docc/<Module>.md, "## Topics") lists is
uncurated. Both fail, with the symbol's path and what to do. (docc's own
`isCurated` also counts a symbol that is merely linked from some page, so the
landing page is read here.)
Compiler-synthesized members (`!=`, inherited defaults) are left out by
generating with `--experimental-skip-synthesized-symbols`.

usage: doccoverage.py ARCHIVE...
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOP_LEVEL_KINDS = {"Structure", "Enumeration", "Class", "Protocol", "Type Alias",
                   "Function", "Global Variable", "Operator", "Macro"}


def landing_topics(module):
    """The symbol links of the landing page's Topics section, without disambiguation suffixes."""
    path = os.path.join(ROOT, "Sources", module, f"{module}.docc", f"{module}.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    topics = text.split("\n## Topics", 1)[1] if "\n## Topics" in text else ""
    return {re.sub(r"-swift\.\w+$", "", link) for link in re.findall(r"``([^`/]+)``", topics)}


def check(archive):
    path = os.path.join(archive, "documentation-coverage.json")
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    module = os.path.basename(archive.rstrip("/")).removesuffix(".doccarchive")
    symbols = [e for e in entries if e["kind"]["isSymbol"]]
    problems = []
    listed = landing_topics(module)
    for e in symbols:
        ref = e["referencePath"].split("/documentation/", 1)[-1]
        if not e["hasAbstract"]:
            problems.append(f"{ref}: undocumented {e['kind']['name'].lower()}: add a /// summary line "
                            f"(or a documentation extension in the catalog for a compiler-made symbol)")
        depth = ref.count("/")   # "E2EE/Session" is top level
        name = re.sub(r"-swift\.\w+$", "", ref.split("/", 1)[-1])
        if depth == 1 and e["kind"]["name"] in TOP_LEVEL_KINDS and name not in listed:
            problems.append(f"{ref}: in no topic group of Sources/{module}/{module}.docc/{module}.md: list it there")
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
