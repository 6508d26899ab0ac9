"""The arbitration service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), a stand-in for the requests relay (``service.upstream``), and a reader of
the case events the service publishes (``service.published``). Like the test profile, every cell
accepts an archive request within the free quota automatically; anything else waits for a person."""

from __future__ import annotations

from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_contracts import arbitration, requests
from dinamis_testkit.fixtures import served_service

AUTO_RULES = {cell: [{"name": "archive-within-free-quota", "kind": "archive-within-free-quota"}]
              for cell in ("pleiades-science", "institutional", "spot-science")}



def policy_config(pleiades_science_km2: float) -> dict:
    """The default quota policy with the pleiades-science cell's Pléiades budget set to ``pleiades_science_km2``."""
    config = Settings().arbitration_quota_policy
    config["budgets_km2"]["pleiades-science"]["pleiades"] = [{"from": "2016-01-01", "value": pleiades_science_km2}]
    return config


service = served_service("arbitration", create_app, Settings, publishes=[arbitration.TOPIC],
                         listens_to=requests.TOPIC, arbitration_auto_rules=AUTO_RULES)
