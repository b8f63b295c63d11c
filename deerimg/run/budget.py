"""Money in a run: each answer's cost, and --max-cost, a budget that is never passed.

Before a request goes out, what was spent, plus what is in flight at its estimate, plus this
request's estimate must stay within the budget; otherwise it is not sent, and neither is any
after it (the requests in flight finish and are saved). An answer's actual cost replaces its
estimate; where the actual cost is unknown (an answer without usage), the estimate stays counted.
"""

from __future__ import annotations

import threading

from deerimg import prices
from deerimg.prices import Cost
from deerimg.run.tasks import Task
from deerimg.wire.client import ApiResult


class OverBudget(Exception):
    """The next request would pass --max-cost: it is not sent, nor any after it."""


def cost_of(task: Task, result: ApiResult) -> Cost:
    """What one answer cost: per image where the model is priced so, else from its usage."""
    return prices.cost_of(str(task.body.get("model")), result.usage, len(result.data))


class Budget:
    """--max-cost USD (None: no budget), shared by the run's workers."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.spent = 0.0  # actual costs, and the estimates of answers whose cost is unknown
        self.unknown = 0  # answers whose cost is unknown
        self.stopped = False  # a request was held back: the budget ended the run
        self._in_flight = 0.0
        self._lock = threading.Lock()

    def reserve(self, task: Task) -> float:
        """Count TASK's estimate as in flight, or raise OverBudget; the amount reserved."""
        estimate = task.estimate_usd or 0.0
        with self._lock:
            if self.limit is None:
                return 0.0
            if self.stopped or self.spent + self._in_flight + estimate > self.limit + 1e-9:
                self.stopped = True
                raise OverBudget
            self._in_flight += estimate
            return estimate

    def maybe_paid(self, task: Task) -> None:
        """A request sent again after a time-out that may have been billed (--retry-timeouts):
        the first try is counted at its estimate, as spent."""
        with self._lock:
            self.spent += task.estimate_usd or 0.0

    def settle(self, reserved: float, cost: Cost | None) -> None:
        """An answer came (COST), or none did (None: its request was not paid for)."""
        with self._lock:
            self._in_flight = max(0.0, self._in_flight - reserved)
            if cost is None:
                return
            if cost.usd is None:
                self.unknown += 1
                self.spent += reserved  # counted at its estimate: never below what it may cost
            else:
                self.spent += cost.usd
