"""Fixtures of the fault suite: the end-to-end suite's own (`make_souk`, `souk`, `smtp_sink`,
`fake_stripe`…), reused as they are, plus the scale of the run.

`Tests/e2e` goes on `sys.path` so its helper modules (`fake_stripe`, `smtp_sink`, `shop_helpers`,
`test_catalog_api`…) import here. Its `conftest.py` is loaded under another module name
(`souk_e2e_conftest`: two modules both named `conftest` cannot be imported the usual way), and its
names are copied into this module, so that (a) pytest finds its fixtures here and (b) the e2e
helper modules' own `from conftest import Souk` finds what they expect in this conftest.

Scale: `SOUK_FAULTS=short` (default, the CI variant: the whole suite in about two minutes on two
cores with a debug build) or `SOUK_FAULTS=full` (the figures of issue 15). See `fault_helpers.SCALE`.
"""
import importlib.util
import sys
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"
FAULTS = Path(__file__).resolve().parent
for folder in (E2E, FAULTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

_spec = importlib.util.spec_from_file_location("souk_e2e_conftest", E2E / "conftest.py")
_e2e = importlib.util.module_from_spec(_spec)
sys.modules["souk_e2e_conftest"] = _e2e
_spec.loader.exec_module(_e2e)
# Everything but pytest's hooks (the e2e suite's browser artifacts and schemathesis summary are not
# wanted here): fixtures, the Souk class, SOUK_BIN, csrf_from, assert_problem…
globals().update({name: value for name, value in vars(_e2e).items()
                  if not name.startswith(("__", "pytest_"))})

from fake_stripe import fake_stripe  # noqa: E402,F401  (a fixture)
from smtp_sink import smtp_sink  # noqa: E402,F401  (a fixture)

import fault_helpers  # noqa: E402


def pytest_report_header(config):
    return (f"souk fault suite: SOUK_FAULTS={fault_helpers.LEVEL} "
            f"({', '.join(f'{k}={v}' for k, v in fault_helpers.SCALE.items())}); SOUK_BIN={_e2e.SOUK_BIN}")


def pytest_terminal_summary(terminalreporter):
    """Each scenario's figures, together at the end of the run, whatever the outcome."""
    if fault_helpers.REPORT:
        terminalreporter.section("fault suite figures")
        for line in fault_helpers.REPORT:
            terminalreporter.write_line(line)


import pytest  # noqa: E402


@pytest.fixture
def restarts():
    """A list the test appends the servers it restarts to (fault_helpers.restart_on_same_port);
    each still running is stopped after the test."""
    started = []
    yield started
    for souk in started:
        souk.stop()
