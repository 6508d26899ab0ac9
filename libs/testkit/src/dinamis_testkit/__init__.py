"""The platform's test harness, for tests and benchmarks only: production code (services,
``dinamis_common``, ``dinamis_contracts``, the ``dinamis`` CLI) never imports it (an import-linter
contract says so). It may import the CLI, whose development features (the stack, its mail sink,
``make up``'s demo subscription) tests reuse.

- ``inprocess``: ASGI apps served in the test's own event loop, free loopback ports;
- ``service``: a service app served in the test's loop on the real Kafka and MongoDB-wire server in a
  sandbox (own Kafka namespace and databases, dropped after), with clients carrying test tokens;
- ``events``: CloudEvents published to a topic as a relay does, topics read from their start;
- ``archive``: the known Airbus archive scenes loaded into the stack's catalogue, and the bodies of
  archive and tasking requests over them;
- ``polling``: waiting for an effect that arrives asynchronously;
- ``fixtures``: pytest fixtures made of the above (the one module importing pytest);
- ``devtokens``: a test signing key (RSA pair, JWKS on disk) and tokens signed with it;
- ``browser``: an HTTP client that keeps cookies as a browser does on loopback, HTML forms;
- ``portal``: what the web portal makes a browser do against Keycloak (PKCE login, THEIA linking,
  the set-password e-mail);
- ``mail``: the e-mails an SMTP sink kept, waited for and read as a person would.
"""
