"""The gateway's HTTP side: the proxy routes, the access log, and what routers take from a request."""
