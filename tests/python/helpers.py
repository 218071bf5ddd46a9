"""Helpers shared by the lowbit Python tests."""

import subprocess
import threading
import time


def run_cli(cli, *args):
    """Runs the lowbit CLI with args; returns its stdout, failing the test if
    it fails."""
    done = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"lowbit {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done.stdout


def main_thread_ticks_during(work):
    """Runs work() on another thread while this thread keeps executing Python
    (a loop that records the time, then sleeps 0.5 ms).

    Returns (duration of work(), ticks of this thread's loop in the middle half
    of work()). If work() held the GIL, this thread could not run while it
    did: there would be no ticks in its middle.
    """
    span, failure = {}, []

    def target():
        try:
            span["start"] = time.perf_counter()
            work()
            span["end"] = time.perf_counter()
        except BaseException as e:  # re-raised on the main thread
            failure.append(e)

    ticks = []
    thread = threading.Thread(target=target)
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.0005)
    thread.join()
    if failure:
        raise failure[0]
    duration = span["end"] - span["start"]
    low, high = span["start"] + duration / 4, span["end"] - duration / 4
    return duration, sum(1 for t in ticks if low <= t <= high)


def ticks_during_long_enough(make_work, min_seconds=0.2, max_scale=1 << 10):
    """main_thread_ticks_during(make_work(scale)) for scale 1, 2, 4, ... until
    the work takes at least min_seconds, so that a faster machine gets more
    work rather than a run too short to tell. Returns (duration, ticks) of the
    last try; fails if even max_scale is too fast."""
    scale = 1
    while True:
        duration, ticks = main_thread_ticks_during(make_work(scale))
        if duration >= min_seconds:
            return duration, ticks
        assert scale < max_scale, f"the work took {duration:.3f} s even at scale {scale}"
        scale *= 2
