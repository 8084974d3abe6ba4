import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import swtest  # noqa: E402


@pytest.fixture
def daemon_factory(tmp_path):
    """Start daemons with options; all are stopped and checked at teardown."""
    started = []

    def make(**kw):
        sub = tmp_path / ("d%d" % len(started))
        sub.mkdir()
        d = swtest.Daemon(sub, **kw).start()
        started.append(d)
        return d

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
