"""What a test waiting for an order accepts: once ordered, a request of the test stack goes on by
itself (its provisioning confirms automatically and the Airbus simulator delivers within seconds),
so "ordered" is a point passed, not a place where it stays."""

ORDERED_OR_LATER = frozenset({"ordered", "acquiring", "delivered", "closed"})
