"""``python -m airbus_simulator``: serves the simulator with the settings of the environment (AIRBUS_SIM_*)."""

from __future__ import annotations

import logging

import uvicorn

from airbus_simulator.app import create_app
from airbus_simulator.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # a call held by a time-out fault must not hold a stop: in-flight calls get 2 s
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
