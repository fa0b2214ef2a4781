"""`wirewatch demo`: a local newsroom publishing wire copies, watched by an embedded Wirewatch.

`run_demo(DemoOptions(directory=…), stop=event, on_update=callback)` starts a newsroom of seven
outlets on 127.0.0.1, subscribes its feeds in the demo folder's own SQLite database, follows two
topics with webhook alerts to receivers inside the newsroom, runs the service embedded until
the work is done (or the duration is over, or `stop` is set), stops everything it started and
returns the final `DemoState` (`.summary()` is the JSON summary).
"""

from wirewatch.demo.plan import expected_figures, publishing_plan
from wirewatch.demo.runner import DemoOptions, DemoState, run_demo

__all__ = ["DemoOptions", "DemoState", "expected_figures", "publishing_plan", "run_demo"]
