"""Kafka messaging building blocks: CloudEvents envelope, broker, outbox + relay, consumers."""
