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
import tempfile

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


def scan(root: pathlib.Path) -> tuple[list[str], int, int]:
    """The upward references under `root`, with the counts of files and types."""
    files = sorted(root.rglob("*.swift"))
    owner: dict[str, str] = {}
    problems: list[str] = []
    for f in files:
        folder = f.relative_to(root).parts[0]
        if folder not in FLOORS:
            problems.append(f"{f.relative_to(root)}: folder {folder} has no floor in scripts/layercheck.py")
            continue
        for name in DECL.findall(strip(f.read_text())):
            if name in owner and owner[name] != folder:
                problems.append(f"type {name} is declared in both {owner[name]} and {folder}")
            owner[name] = folder
    for f in files:
        folder = f.relative_to(root).parts[0]
        if folder not in FLOORS:
            continue
        seen = set()
        for name in IDENT.findall(strip(f.read_text())):
            other = owner.get(name)
            if other is None or other == folder or name in seen:
                continue
            if FLOORS[other] > FLOORS[folder]:
                seen.add(name)
                problems.append(f"{f.relative_to(root)} ({folder}) uses {name} from {other}")
    return problems, len(files), len(owner)


def self_test() -> None:
    """The check must catch what it exists for: an upward use, in code, and
    not one named only in a comment or a string."""
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "Core").mkdir()
        (root / "Session").mkdir()
        (root / "Session" / "Peer.swift").write_text("public struct Peer {}\n")
        (root / "Core" / "Clean.swift").write_text(
            'struct Clean {\n    // Peer in a comment\n    let s = "Peer"\n}\n')
        problems, _, _ = scan(root)
        assert problems == [], problems
        (root / "Core" / "Upward.swift").write_text("struct Upward { let p: Peer }\n")
        problems, _, _ = scan(root)
        assert problems == ["Core/Upward.swift (Core) uses Peer from Session"], problems
        (root / "Stray").mkdir()
        (root / "Stray" / "X.swift").write_text("struct X {}\n")
        problems, _, _ = scan(root)
        assert any("folder Stray has no floor" in p for p in problems), problems


def main() -> int:
    self_test()
    problems, nfiles, ntypes = scan(ROOT)
    for p in problems:
        print(p)
    if problems:
        floors = sorted(set(FLOORS.values()))
        print(f"layer check: {len(problems)} upward reference(s); floors: "
              + " ← ".join("/".join(f for f in FLOORS if FLOORS[f] == n) for n in floors))
        return 1
    print(f"layer check: {nfiles} files, {ntypes} types, every use runs downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
