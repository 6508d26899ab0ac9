"""The in-memory Airbus of the provisioning flow's unit tests lives in the test kit, importable from any
test module (pytest runs with ``--import-mode=importlib``, so this folder is not on the import path):

    from dinamis_testkit.airbus import FakeAirbus
"""
