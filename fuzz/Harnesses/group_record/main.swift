import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer entry points of the `group_record` harness; the body is FuzzTarget.groupRecord
// in fuzz/Targets (also replayed by `swift test`). Built with -parse-as-library:
// main() is libFuzzer's driver, reached through Harnesses/FuzzMain.
// E2EE_FUZZ_STRICT=1 turns off the allowance for open KnownIssues (to check a fix).

let strict = getenv("E2EE_FUZZ_STRICT").map { String(cString: $0) == "1" } ?? false

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    FuzzTarget.groupRecord.warmUp()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.groupRecord.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [], avoidingKnownIssues: !strict)
    return 0
}
