import RelayStorage
import Synchronization
import Testing

/// The stack address of a local of the caller's frame.
@inline(never) func stackAddress() -> UInt {
    var local = 0
    return withUnsafeMutablePointer(to: &local) { UInt(bitPattern: $0) }
}

@Suite struct HandlerSlotTests {
    /// The ten-thousandth call runs at the depth of the first: reading the
    /// callback never wraps it in another layer (a Mutex of a bare closure did,
    /// two thunks per call, so every call was slower than the one before).
    @Test func theTenThousandthCallIsAsShallowAsTheFirst() {
        let slot = HandlerSlot<Int>()
        let depths = Mutex<[Int: UInt]>([:])
        slot.set { call in
            let here = stackAddress()
            depths.withLock { $0[call] = here }
        }
        var distances = [UInt]()
        for call in 0..<10_000 {
            let caller = stackAddress()
            slot(call)
            if call == 0 || call == 9_999 {
                let inner = depths.withLock { $0[call] } ?? 0
                distances.append(caller &- inner)
            }
        }
        #expect(distances.count == 2)
        #expect(distances[1] <= distances[0] + 256, "call 10,000 is \(distances[1]) bytes deep, call 1 \(distances[0])")
        // Replacing the callback takes effect at once.
        let seen = Mutex<[Int]>([])
        slot.set { call in seen.withLock { $0.append(call) } }
        slot(7)
        #expect(seen.withLock { $0 } == [7])
    }
}
