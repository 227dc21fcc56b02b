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
