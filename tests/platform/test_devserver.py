"""`make run`'s exit status: a stop asked for (Ctrl-C, SIGTERM) is a clean exit, although the
services re-raise the signal they were stopped with; a service that fails is not."""

import signal

from signpost_platform.devserver import exit_status


def test_services_stopped_by_the_signal_sent_to_them_is_a_clean_exit():
    stopped = [-signal.SIGTERM, -signal.SIGTERM, 0, -signal.SIGINT]
    assert exit_status(stopped, stopping=True) == 0


def test_a_service_that_fails_or_is_killed_makes_the_run_fail():
    assert exit_status([-signal.SIGTERM, 1, -signal.SIGTERM], stopping=False) == 1
    assert exit_status([-signal.SIGTERM, 3], stopping=True) == 3
    # Killed from outside: 128 + the signal, as a shell reports it.
    assert exit_status([-signal.SIGKILL, -signal.SIGTERM], stopping=False) == 128 + signal.SIGKILL
    # A service that ended by itself, the others stopped after it: not a clean run.
    assert exit_status([0, -signal.SIGTERM], stopping=False) == 1
