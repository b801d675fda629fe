// Every row of the table, in the order they run and print: each of our
// operations next to the raw primitive it wraps. The cases live in the area
// files (Chain, AEAD, Curve, KEM, Session, Routing, Store, Group). Inner loops
// copy what they need into locals first: class properties in a loop pay for
// exclusivity checks that the operation itself does not.

func allComparisons() -> [Comparison] {
    chainComparisons() + aeadComparisons() + curveComparisons()
        + kemComparisons() + sessionComparisons() + routingComparisons() + storeComparisons() + groupComparisons()
}
