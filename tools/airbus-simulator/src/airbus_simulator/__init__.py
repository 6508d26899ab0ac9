"""A stand-in for Airbus OneAtlas ordering, as ``docs/airbus-api.md`` describes it: development, demos
and tests only. ``python -m airbus_simulator`` serves it; ``create_app(settings)`` builds it."""
