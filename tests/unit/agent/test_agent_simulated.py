"""Which containers of a simulated Pod the in-process agent runtime of `jobset up` runs."""

from __future__ import annotations

import pytest

from engine.agent import simulated


@pytest.mark.parametrize(("container", "expected"), [
    ({"name": "agent", "command": ["jobset", "in-place-restart-agent"]}, True),
    ({"name": "agent", "command": ["/usr/local/bin/jobset", "in-place-restart-agent"]}, True),
    ({"name": "in-place-restart-agent", "image": "<CHANGE ME>"}, True),
    ({"name": "in-place-restart-agent", "command": ["bash", "-c", "sleep 1"]}, False),
    ({"name": "worker", "command": ["jobset", "controller"]}, False),
    ({"name": "worker"}, False),
], ids=["command", "command by path", "named, image entrypoint", "named but another command", "another jobset command",
        "a worker"])
def test_agent_containers_are_recognised_by_command_or_name(container: dict[str, object], expected: bool) -> None:
    assert simulated.is_agent(container) is expected
