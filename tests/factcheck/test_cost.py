"""Each check counts its own LLM tokens, whatever runs beside it, and prices them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from factcheck import cost
from factcheck.cost import usage
from factcheck.settings import Settings


def test_checks_side_by_side_each_count_their_own_calls_also_from_their_pools():
    tallies: dict[str, cost.Tally] = {}
    both_counting = threading.Barrier(2)

    def a_check(name: str, calls: int) -> None:
        with cost.tallying() as tally, ThreadPoolExecutor(2) as pool:
            both_counting.wait()  # the other check counts at the same time
            tasks = [pool.submit(cost.in_this_check(usage.add), 10, 1) for _ in range(calls)]
            [task.result() for task in tasks]
            tallies[name] = tally

    before = usage.snapshot()
    threads = [threading.Thread(target=a_check, args=("a", 3)),
               threading.Thread(target=a_check, args=("b", 5))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert (tallies["a"].calls, tallies["a"].tokens_in) == (3, 30)
    assert (tallies["b"].calls, tallies["b"].tokens_out) == (5, 5)
    assert usage.snapshot()[0] - before[0] == 8  # the process-wide count has both
    usage.add(1, 1)  # outside any check: counted process-wide only
    assert tallies["a"].calls == 3


def test_cost_uses_known_prices_or_the_settings_and_says_when_unknown():
    known = cost.priced(Settings(_env_file=None, llm_model="gpt-4o-mini"), 2, 1_000_000, 100_000)
    assert known.cost_usd == round(0.15 + 0.06, 6)
    custom = Settings(_env_file=None, llm_model="llama3.1", llm_price_in=1, llm_price_out=3)
    assert cost.priced(custom, 1, 500_000, 0).cost_usd == 0.5
    assert cost.priced(Settings(_env_file=None, llm_model="llama3.1"), 1, 5, 5).cost_usd is None
