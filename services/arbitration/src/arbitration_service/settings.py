from typing import Any, Literal

from dinamis_common.settings import ServiceSettings
from pydantic import BaseModel, Field

Cell = Literal["pleiades-science", "institutional", "spot-science"]


class AutoRuleSetting(BaseModel):
    """One automatic rule of a cell (``arbitration_service.domain.auto_rules``)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$",
                      description="its decisions are recorded as by 'rule:<name>'")
    kind: Literal["archive-within-free-quota"]


class Settings(ServiceSettings):
    service_name: str = "arbitration"
    http_port: int = 8004
    # Automatic decisions per cell, e.g. {"pleiades-science": [{"name": "archive-within-free-quota",
    # "kind": "archive-within-free-quota"}]} (env ARBITRATION_AUTO_RULES as JSON). Production: none, every
    # case is decided by a person; the dev and test profiles enable the archive rule for every cell.
    arbitration_auto_rules: dict[Cell, list[AutoRuleSetting]] = Field(
        default_factory=dict, description="the automatic rules of each cell, tried in order (none by default)")
    arbitration_pace_days: int = Field(default=14, ge=1, le=365,
                                       description="days over which a cell's pace of decisions is measured")
    arbitration_default_decisions_per_day: float = Field(
        default=2.0, gt=0, description="the pace assumed for a cell that decided nothing in those days")
    arbitration_queue_max_cases: int = Field(default=500, ge=1, le=500,
                                             description="cases in review read at most for one queue")
    arbitration_settle_after_seconds: float = Field(
        default=30.0, ge=1, le=3600,
        description="a person's decision whose attempt stopped after taking the case's claim (a crash between "
                    "its quota hold and its record) is completed after this long")
    # The quota ledger's policy (arbitration_service.domain.policy): each value valid from a date on.
    # Free volumes per request: ../shared/domain/BRIEF.md; budgets per cell and period: defaults to revise.
    arbitration_quota_policy: dict[str, Any] = Field(default_factory=lambda: {
        "periods": {"pleiades": [{"from": "2016-01-01", "value": "quarter"}],
                    "spot-6-7": [{"from": "2016-01-01", "value": "year"}]},
        "budgets_km2": {"pleiades-science": {"pleiades": [{"from": "2016-01-01", "value": 1_000_000}]},
                        "institutional": {"pleiades": [{"from": "2016-01-01", "value": 1_000_000}],
                                          "spot-6-7": [{"from": "2016-01-01", "value": 10_000_000}]},
                        "spot-science": {"spot-6-7": [{"from": "2016-01-01", "value": 10_000_000}]}},
        "free_km2": {"pleiades": {"archive": [{"from": "2016-01-01", "value": 500}],
                                  "tasking": [{"from": "2016-01-01", "value": 250}]},
                     "spot-6-7": {"archive": [{"from": "2016-01-01", "value": 5_000}],
                                  "tasking": [{"from": "2016-01-01", "value": 2_000}]}},
    }, description="quota periods, budgets (km² per cell and period) and free volumes, each valid from a date")
