"""Drive mimic's QMP server with QEMU's own Python client library (PyPI: qemu.qmp).

Usage: python3 qmp_client.py SOCKET_PATH   (exit 0 on success; 2 if qemu.qmp is missing)

The server is started by tests/python_client.rs with the FakeVm, which starts out running and
emits QEMU's events for stop/cont/system_powerdown/quit.
"""

import asyncio
import sys

try:
    from qemu.qmp import ExecuteError, QMPClient
except ImportError as exc:  # pragma: no cover - reported by the Rust test
    print(f"qemu.qmp is not importable ({exc}): run `pip install qemu.qmp`", file=sys.stderr)
    sys.exit(2)

TIMEOUT = 10


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def next_event(listener, name):
    event = await asyncio.wait_for(listener.get(), TIMEOUT)
    check(event["event"] == name, f"expected {name}, got {event}")
    stamp = event["timestamp"]
    check(stamp["seconds"] > 1_600_000_000 and 0 <= stamp["microseconds"] < 1_000_000, f"timestamp {stamp}")
    return event


async def main(path):
    qmp = QMPClient("mimic-test")
    await asyncio.wait_for(qmp.connect(path), TIMEOUT)

    version = qmp.greeting.QMP.version
    check(version["qemu"]["major"] >= 10, f"greeting version {version}")
    check(version["package"].startswith("mimic"), f"greeting package {version}")

    status = await qmp.execute("query-status")
    check(status["status"] == "running" and status["running"] is True, f"query-status {status}")

    with qmp.listener() as listener:
        check(await qmp.execute("stop") == {}, "stop returns {}")
        await next_event(listener, "STOP")
        status = await qmp.execute("query-status")
        check(status["status"] == "paused" and status["running"] is False, f"after stop {status}")

        await qmp.execute("cont")
        await next_event(listener, "RESUME")

        text = await qmp.execute("human-monitor-command", {"command-line": "info status"})
        check(text == "VM status: running\r\n", f"hmp {text!r}")

        try:
            await qmp.execute("no-such-command")
            raise AssertionError("unknown command succeeded")
        except ExecuteError as err:
            check(err.error_class == "CommandNotFound", f"error class {err.error_class}")

        cpus = await qmp.execute("query-cpus-fast")
        check([c["cpu-index"] for c in cpus] == [0, 1], f"query-cpus-fast {cpus}")

        await qmp.execute("system_powerdown")
        await next_event(listener, "POWERDOWN")
        shutdown = await next_event(listener, "SHUTDOWN")
        check(shutdown["data"] == {"guest": True, "reason": "guest-shutdown"}, f"SHUTDOWN {shutdown}")

        await qmp.execute("quit")
        shutdown = await next_event(listener, "SHUTDOWN")
        check(shutdown["data"]["reason"] == "host-qmp-quit", f"SHUTDOWN {shutdown}")

    await qmp.disconnect()
    print("qemu.qmp session OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
