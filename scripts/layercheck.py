#!/usr/bin/env python3
"""Fails if a file of the E2EE module uses a type declared on a higher floor.

The floors are the folders of Sources/E2EE, lowest first (docs/DESIGN.md):
a file may use what its own floor and the floors below declare, never above.
The scan is lexical, which is enough for a module whose types have distinct
names: it collects the top-level declarations of each folder, strips comments
and string literals from every file, and looks up each identifier.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "E2EE"
# Folders on one floor share a number (X3DH and Ratchet: session setup errors
# name the decrypt error of a rejected first message, the ratchet throws setup errors).
FLOORS = {
    "Core": 0, "Keys": 1, "Wire": 2, "X3DH": 3, "Ratchet": 3,
    "Session": 4, "Group": 5, "Storage": 6, "Messaging": 7,
}
DECL = re.compile(
    r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|fileprivate|private|package|final|indirect)\s+)*"
    r"(?:struct|class|enum|protocol|actor|typealias)\s+([A-Za-z_]\w*)", re.M)
IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def strip(source: str) -> str:
    """Removes comments and string literals (multi-line strings included)."""
    source = re.sub(r'"""[\s\S]*?"""', '""', source)
    source = re.sub(r"/\*[\s\S]*?\*/", " ", source)
    source = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', source)
    return re.sub(r"//[^\n]*", " ", source)


def main() -> int:
    files = sorted(ROOT.rglob("*.swift"))
    owner: dict[str, str] = {}
    problems: list[str] = []
    for f in files:
        folder = f.relative_to(ROOT).parts[0]
        if folder not in FLOORS:
            problems.append(f"{f.relative_to(ROOT)}: folder {folder} has no floor in scripts/layercheck.py")
            continue
        for name in DECL.findall(strip(f.read_text())):
            if name in owner and owner[name] != folder:
                problems.append(f"type {name} is declared in both {owner[name]} and {folder}")
            owner[name] = folder
    for f in files:
        folder = f.relative_to(ROOT).parts[0]
        if folder not in FLOORS:
            continue
        seen = set()
        for name in IDENT.findall(strip(f.read_text())):
            other = owner.get(name)
            if other is None or other == folder or name in seen:
                continue
            if FLOORS[other] > FLOORS[folder]:
                seen.add(name)
                problems.append(f"{f.relative_to(ROOT)} ({folder}) uses {name} from {other}")
    for p in problems:
        print(p)
    if problems:
        print(f"layer check: {len(problems)} upward reference(s); floors: "
              + " ← ".join(sorted(FLOORS, key=FLOORS.get)))
        return 1
    print(f"layer check: {len(files)} files, {len(owner)} types, every use runs downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
