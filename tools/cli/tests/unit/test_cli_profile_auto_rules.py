"""The dev and test profiles give the arbitration service the automatic archive rule in every cell
(production settings have none), and no other service gets it."""

from __future__ import annotations

import json

import pytest
from dinamis_cli.stack import load_profile
from dinamis_cli.stack.profile import SERVICES


@pytest.mark.parametrize("profile", ["dev", "test"])
def test_the_profiles_accept_archive_requests_within_the_free_quota_in_every_cell(profile):
    rules = json.loads(load_profile(profile).service_env("arbitration")["ARBITRATION_AUTO_RULES"])
    assert rules == {cell: [{"name": "archive-within-free-quota", "kind": "archive-within-free-quota"}]
                     for cell in ("pleiades-science", "institutional", "spot-science")}
    assert not [s for s in SERVICES if s not in ("arbitration", "gateway")
                and "ARBITRATION_AUTO_RULES" in load_profile(profile).service_env(s)]
