/// The relay client (docs/RELAY.md): an async/await client over `SessionManager`.
///
/// Nothing is here yet: this target exists so that the package's products are in
/// place; it comes with authentication and the mailbox.
