import FuzzTargets
import Foundation

// Writes every target's seed corpus to fuzz/<target>/corpus/, the decrypt
// harness's fixed records to fuzz/decrypt/ and the recorded PQXDH sessions
// (PQCapture) to fuzz/Targets/PQCaptures.swift. Deterministic once those
// sessions are recorded: running it again rewrites the same bytes. (A session
// whose capture is missing or stale is made afresh, and everything written in
// that run is made from it, so the next build reproduces it.) Files in a corpus
// that the generator does not make (inputs merged from fuzzing runs) are kept.
//
//   make_corpus <fuzz directory> [--check]
//
// --check writes nothing and exits 1 if a seed is missing or differs.

let args = CommandLine.arguments.dropFirst()
guard let root = args.first(where: { !$0.hasPrefix("--") }) else {
    print("usage: make_corpus <fuzz directory> [--check]")
    exit(2)
}
let check = args.contains("--check")
let fm = FileManager.default
var stale = 0

@MainActor
func write(_ bytes: [UInt8], to path: String) throws {
    if let existing = fm.contents(atPath: path), Array(existing) == bytes { return }
    if check {
        print("stale: \(path)")
        stale += 1
        return
    }
    try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    print("wrote \(path) (\(bytes.count) bytes)")
}

var total = 0
for target in FuzzTarget.allCases {
    let files = SeedCorpus.files(for: target)
    precondition(Set(files.map(\.name)).count == files.count, "duplicate seed names for \(target.rawValue)")
    for f in files {
        try write(f.bytes, to: "\(root)/\(target.rawValue)/corpus/\(f.name)")
        total += f.bytes.count
    }
    print("\(target.rawValue): \(files.count) seeds")
}
do {
    let files = try RelaySeeds.files()
    precondition(Set(files.map(\.name)).count == files.count, "duplicate seed names for relay_request")
    for f in files {
        try write(f.bytes, to: "\(root)/relay_request/corpus/\(f.name)")
        total += f.bytes.count
    }
    print("relay_request: \(files.count) seeds")
}
do {
    let files = SeedCorpus.aeadDiff()
    for f in files {
        try write(f.bytes, to: "\(root)/aead_diff/corpus/\(f.name)")
        total += f.bytes.count
    }
    print("aead_diff: \(files.count) seeds")
}
let stalePQ = PQCapture.stale
try write(Array(PQCapture.generatedSource().utf8), to: "\(root)/Targets/PQCaptures.swift")
if !stalePQ.isEmpty && !check {
    print("recorded \(stalePQ.count) PQXDH sessions (\(stalePQ.joined(separator: ", "))): rebuild before using the harnesses")
}
try write(DecryptFixture.built.sessionRecord, to: "\(root)/decrypt/session.record")
try write(DecryptFixture.built.accountRecord, to: "\(root)/decrypt/account.record")
print("\(total) bytes of seeds")
if stale > 0 {
    print("\(stale) seed files are missing or stale: run fuzz/make_corpus.sh")
    exit(1)
}
