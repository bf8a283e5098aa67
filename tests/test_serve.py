"""The container's entry point, `wbs-sync serve`, run as a real process outside a container."""

from __future__ import annotations

import signal

import httpx2

from tests.conftest import ServerFactory, World, gauge, server_output, wait_for


def test_serve_answers_with_several_workers_and_stops_cleanly_on_sigterm(
    serve: ServerFactory, world: World
) -> None:
    base, process = serve(workers=2)
    assert httpx2.get(f"{base}/readyz", timeout=5).status_code == 200
    for _ in range(10):
        response = httpx2.get(f"{base}/api/v1/projects", headers=world.auth("town_a"), timeout=5)
        assert response.status_code == 200
        assert len(response.json()["items"]) == 1
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    output = server_output(process)
    assert process.returncode == 0, output[-2000:]
    assert world.tokens["town_a"] not in output


def test_sigterm_lets_requests_in_flight_finish(serve: ServerFactory, world: World) -> None:
    import threading

    base, process = serve()
    answers: list[int] = []

    def held_request() -> None:
        # A long poll the server holds for 3 s: still in flight when SIGTERM arrives.
        response = httpx2.get(
            f"{base}/api/v1/changes?wait=3", headers=world.auth("town_a"), timeout=30
        )
        answers.append(response.status_code)

    waiting = threading.Thread(target=held_request)
    waiting.start()
    wait_for(
        lambda: gauge(base, "wbs_feed_long_polls_held") >= 1, "the request to be held in flight"
    )
    process.send_signal(signal.SIGTERM)
    waiting.join(timeout=30)
    assert answers == [200]
    # After a graceful shutdown uvicorn re-raises SIGTERM, so managers see why it stopped.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
