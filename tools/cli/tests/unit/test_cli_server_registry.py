"""The stack's servers as one registry: every server described once, and what the rest derives from it."""

from __future__ import annotations

from dinamis_cli.stack import REGISTRY, SERVERS, load_profile, server
from dinamis_cli.stack.profile import SERVICES


def test_each_server_is_described_once_with_a_port_in_every_profile():
    assert SERVERS[:5] == ("postgres", "kafka", "ferretdb", "mail", "keycloak")  # start order (PG first)
    assert "objectstore" in SERVERS
    assert len({s.variable for s in REGISTRY}) == len(REGISTRY)
    for name in ("dev", "test"):
        profile = load_profile(name)
        assert {s.name for s in REGISTRY} <= set(profile.ports)
    assert server("postgres").stop_signal.name == "SIGINT"


def test_every_service_is_told_how_to_reach_every_server(monkeypatch):
    for s in REGISTRY:
        monkeypatch.delenv(s.variable, raising=False)
    for port in ("KAFKA", "KEYCLOAK"):  # the profile's own ports, whatever this machine overrides
        monkeypatch.delenv(f"DINAMIS_{port}_PORT", raising=False)
    profile = load_profile("test")
    for name in SERVICES:
        env = profile.service_env(name)
        for s in REGISTRY:
            assert s.environment(profile).items() <= env.items(), (name, s.name)
    assert profile.service_env("requests")["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert profile.service_env("requests")["AUTH_ISSUER"] == "http://127.0.0.1:18080/realms/dinamis"


def test_a_server_named_in_the_environment_is_someone_elses_and_the_services_use_it(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example.org:9092")
    profile = load_profile("test")
    assert profile.external("kafka") == server("kafka").external() == "kafka.example.org:9092"
    assert profile.service_env("arbitration")["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.example.org:9092"
    assert server("kafka").address(profile) == "kafka.example.org:9092"
    monkeypatch.delenv("MONGODB_URI", raising=False)
    assert profile.external("ferretdb") is None


def test_the_services_that_use_the_object_store_get_keys_of_their_own(monkeypatch):
    for variable in ("OBJECT_STORE_URL", "DINAMIS_OBJECTSTORE_PORT"):
        monkeypatch.delenv(variable, raising=False)
    profile = load_profile("test")
    keys = {name: (env.get("OBJECT_STORE_ACCESS_KEY"), env.get("OBJECT_STORE_SECRET_KEY"))
            for name in SERVICES for env in [profile.service_env(name)]}
    assert profile.service_env("catalogue")["OBJECT_STORE_URL"] == "http://127.0.0.1:28333"
    assert all(keys["provisioning"]) and all(keys["catalogue"])
    assert len({*keys["provisioning"], *keys["catalogue"]}) == 4  # nothing shared between them
    assert all(keys[name] == (None, None) for name in SERVICES if name not in ("provisioning", "catalogue"))
    monkeypatch.setenv("OBJECT_STORE_URL", "https://s3.example.org")  # someone else's store: its keys come from there
    assert "OBJECT_STORE_ACCESS_KEY" not in profile.service_env("provisioning")
    assert profile.service_env("provisioning")["OBJECT_STORE_URL"] == "https://s3.example.org"
