import FuzzTargets

// libFuzzer entry points of the `pq_prekey_message` harness; the body is FuzzTarget.pqPreKeyMessage
// in fuzz/Targets (also replayed by `swift test`). Built with -parse-as-library:
// main() is libFuzzer's driver, reached through Harnesses/FuzzMain.
// E2EE_FUZZ_STRICT=1 turns off the allowance for open KnownIssues (to check a fix).

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    FuzzTarget.pqPreKeyMessage.warmUp()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.pqPreKeyMessage.runFuzzerInput(data, size)
    return 0
}
