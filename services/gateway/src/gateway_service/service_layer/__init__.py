"""The gateway's one use case: forward a call to a service, sending it again when that is safe."""
