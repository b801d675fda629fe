import RelayFuzzChecks

// libFuzzer entry point of the `relay_request` harness: every parser of the
// relay's own bytes (relay/Sources/RelayProtocol), chosen by the input's first
// byte. The body is RelayRequestHarness in relay/Sources/RelayFuzzChecks, which
// the relay package's `swift test` replays the corpus through. Built with
// -parse-as-library: main() is libFuzzer's driver, reached through Harnesses/FuzzMain.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RelayRequestHarness.runFuzzerInput(data, size)
    return 0
}
