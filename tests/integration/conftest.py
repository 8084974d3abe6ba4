import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import swtest  # noqa: E402


@pytest.fixture
def daemon_factory(tmp_path):
    """Start daemons with options; all are stopped and checked at teardown."""
    started = []

    def make(accounts=(), start=True, **kw):
        """accounts: (user, password, *cli options) added to the store
        before the daemon starts (in parallel: 200 take a few seconds)."""
        sub = tmp_path / ("d%d" % len(started))
        sub.mkdir()
        d = swtest.Daemon(sub, **kw)
        if accounts:
            d.add_account(*accounts[0])     # creates the store
            with ThreadPoolExecutor(8) as ex:
                list(ex.map(lambda a: d.add_account(*a), accounts[1:]))
        started.append(d)
        return d.start() if start else d

    yield make
    errors = []
    for d in started:
        try:
            d.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes more than 30 s (deselect with -m 'not slow')")
    config.addinivalue_line(
        "markers", "release: measures the daemon; run against the release "
        "build named by SIPWALL_BUILD_RELEASE when it is set")
