/// The package's version (semantic versioning; CHANGELOG.md). The wire format
/// is versioned on its own: ``WireMessage/version`` and PROTOCOL.md's suite.
public enum E2EEVersion {
    /// This release, as in CHANGELOG.md's newest heading.
    public static let current = "0.8.0"
}
