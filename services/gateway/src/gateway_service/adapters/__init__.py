"""The gateway's transport to the services."""
