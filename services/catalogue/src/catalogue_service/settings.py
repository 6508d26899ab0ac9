from dinamis_common.settings import ServiceSettings
from pydantic import Field

from catalogue_service.domain.limits import SearchLimits


class Settings(ServiceSettings):
    service_name: str = "catalogue"
    http_port: int = 8002
    # What one anonymous search may ask, checked before any work (domain.limits: every field,
    # its default and what it bounds); JSON, e.g. CATALOGUE_LIMITS='{"filter_max_depth": 10}'.
    catalogue_limits: SearchLimits = Field(default_factory=SearchLimits,
                                           description="limits of a STAC search (filter, fields, sortby, ids...)")
    # Every statement on the catalogue's pool is cut after this; a search cut so is answered 503
    # with Retry-After (README: the catalogue's limits).
    postgres_statement_timeout_ms: int = Field(default=5_000, ge=1,
                                               description="longest any statement of the catalogue may run")
    postgres_pool_timeout_seconds: float = Field(default=3.0, gt=0,
                                                 description="longest a request waits for a database connection")
    postgres_connect_timeout_seconds: int = Field(default=5, ge=1, description="time-out of a new connection")
    postgres_pool_size: int = Field(default=10, ge=1, description="connections to PostgreSQL at most")
    retry_after_seconds: int = Field(default=2, ge=1,
                                     description="Retry-After of a 503 when the database is away or too slow")
