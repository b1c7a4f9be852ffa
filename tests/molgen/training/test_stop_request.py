"""SIGINT/SIGTERM: the first asks the loop to stop at its next check, the second stops at once."""

import os
import signal

import pytest

from molgen.training.run_state import StopRequest


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_interrupts_at_once(signum):
    request = StopRequest()
    with pytest.raises(KeyboardInterrupt), request.installed():
        os.kill(os.getpid(), signum)
        assert request.requested  # the first only sets the flag
        os.kill(os.getpid(), signum)  # work that no longer polls the flag: stop now
        pytest.fail("the second signal did not interrupt")


def test_the_previous_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with StopRequest().installed():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
