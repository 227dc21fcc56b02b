"""The watchdog calls back once a deadline passes, never for a cancelled one, and serves many deadlines."""

import threading

from project.engines.watchdog import Watchdog


def test_deadlines_fire_in_order_and_cancelled_ones_never_do():
    watchdog = Watchdog()
    fired: list[str] = []
    done = threading.Event()
    watchdog.watch(30, lambda: fired.append("late"))  # far away: must not hold up the nearer ones
    cancelled = watchdog.watch(0.05, lambda: fired.append("cancelled"))
    watchdog.watch(0.1, lambda: fired.append("first"))
    watchdog.watch(0.2, lambda: (fired.append("second"), done.set()))
    watchdog.cancel(cancelled)
    assert done.wait(10)
    assert fired == ["first", "second"]


def test_a_poll_acts_once_its_condition_holds_and_a_cancelled_poll_is_not_asked_again():
    watchdog = Watchdog()
    asked: list[str] = []
    acted = threading.Event()
    answers = iter([False, False, False, True])
    tokens: list[int] = []

    def cancelling_itself() -> bool:
        asked.append("cancelled")
        watchdog.cancel(tokens[0])
        return False

    tokens.append(watchdog.poll(0.01, cancelling_itself, lambda: asked.append("acted")))
    watchdog.poll(0.01, lambda: asked.append("live") or next(answers), acted.set)
    assert acted.wait(10)
    assert asked.count("live") == 4 and asked.count("cancelled") == 1 and "acted" not in asked


def test_a_failing_callback_does_not_stop_later_deadlines():
    watchdog = Watchdog()
    done = threading.Event()
    watchdog.watch(0.01, lambda: 1 / 0)
    watchdog.watch(0.05, done.set)
    assert done.wait(10)
