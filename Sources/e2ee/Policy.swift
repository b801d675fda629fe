/// The line `decrypt` writes instead of a plaintext the content policy held
/// (the message is received and kept, marked held, in the inbox).
func heldLine(_ reason: String, from peer: PeerName) -> String {
    let oneLine = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    return "held by policy: \(oneLine) (from \(peer.value))\n"
}
