"""Many clients at once against the real server: more than the pool has connections.

A request waiting for a connection must not hold a worker thread, or the requests holding
connections find no thread to finish in and the process stops answering altogether.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2

from tests.conftest import PATIENCE, ServerFactory, World, gauge, wait_for


def test_a_crowd_larger_than_the_pool_and_the_thread_pool_is_answered(
    serve: ServerFactory, world: World
) -> None:
    # One connection, and three times as many clients as the server has worker threads (40).
    base, _ = serve(WBS_DB_POOL_SIZE="1", WBS_DB_MAX_OVERFLOW="0")
    url = f"{base}/api/v1/projects/{world.projects['a_x'].id}"

    def ask(_: int) -> int:
        # A stalled process fails this whatever the timeout (the pool gives up after 30 s and
        # answers 503, or nothing answers at all); a process slowed by a busy machine does not.
        return httpx2.get(url, headers=world.auth("pmo"), timeout=PATIENCE).status_code

    with ThreadPoolExecutor(120) as crowd:
        statuses = list(crowd.map(ask, range(240)))
    assert statuses == [200] * 240


def test_long_polls_waiting_for_news_leave_the_connections_to_others(
    serve: ServerFactory, world: World
) -> None:
    base, _ = serve(WBS_DB_POOL_SIZE="1", WBS_DB_MAX_OVERFLOW="0")
    project = world.projects["a_x"].id
    feed = f"{base}/api/v1/projects/{project}/changes"
    head = httpx2.get(feed, headers=world.auth("pmo"), params={"limit": 1000}).json()

    def wait_for_news(_: int) -> int:
        return httpx2.get(
            feed,
            headers=world.auth("pmo"),
            params={"since": head["next_cursor"], "wait": 4},
            timeout=15,
        ).status_code

    with ThreadPoolExecutor(10) as pollers:
        waiting = [pollers.submit(wait_for_news, n) for n in range(10)]
        wait_for(lambda: gauge(base, "wbs_feed_long_polls_held") >= 10, "every poller to be held")
        answer = httpx2.get(
            f"{base}/api/v1/projects/{project}", headers=world.auth("pmo"), timeout=15
        )
        assert answer.status_code == 200
        # Answered while all ten were held, not after them (no news comes in their 4 s).
        assert all(not poll.done() for poll in waiting), "the pollers were not held"
        assert [poll.result() for poll in waiting] == [200] * 10
