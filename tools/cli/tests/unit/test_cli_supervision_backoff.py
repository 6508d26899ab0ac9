"""The supervisor's restart policy: 1 s doubling to a 60 s cap while a service keeps exiting
(CrashLoopBackOff); five minutes of running forgive the exits before."""

from __future__ import annotations

from dinamis_cli.stack.supervisor import Backoff


def test_the_delay_doubles_from_one_second_and_stops_at_a_minute():
    policy = Backoff()

    assert [policy.delay(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_process_that_keeps_exiting_waits_longer_each_time():
    policy, failures, delays = Backoff(), 0, []
    for _ in range(4):
        failures = policy.failures_after_exit(failures, uptime=3.0)
        delays.append(policy.delay(failures))

    assert delays == [1, 2, 4, 8]


def test_five_minutes_of_running_start_the_series_again():
    policy = Backoff()
    failures = 6  # it was waiting 32 s between attempts

    assert policy.delay(policy.failures_after_exit(failures, uptime=299.0)) == 60
    assert policy.delay(policy.failures_after_exit(failures, uptime=300.0)) == 1


def test_the_policy_is_configurable():
    policy = Backoff(initial=0.5, cap=3.0, reset_after=10.0)

    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.failures_after_exit(4, uptime=10.0) == 1
