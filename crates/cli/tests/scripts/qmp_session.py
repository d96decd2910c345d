"""Drive mimic through QMP with QEMU's own Python client (qemu.qmp), as a management tool would.

Usage: qmp_session.py SOCKET FIRMWARE DUMPFILE. Exits non-zero with a message on the first unexpected answer.
"""
import asyncio
import sys

try:
    from qemu.qmp import QMPClient
except ImportError:
    print("the Python package qemu.qmp is not importable; run `pip install qemu.qmp`")
    sys.exit(2)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


async def next_event(client, name, timeout=30):
    async def wait():
        async for ev in client.events:
            if ev["event"] == name:
                return ev
    return await asyncio.wait_for(wait(), timeout)


async def main(sock, firmware, dump):
    client = QMPClient("mimic-test")
    await client.connect(sock)
    check(client.greeting is not None, "greeting received")

    status = await client.execute("query-status")
    check(status["status"] == "prelaunch" and not status["running"], f"-S starts in prelaunch: {status}")

    cpus = await client.execute("query-cpus-fast")
    check(len(cpus) == 2 and cpus[0]["target"] == "riscv64", f"query-cpus-fast lists 2 harts: {cpus}")

    resumed = asyncio.ensure_future(next_event(client, "RESUME"))
    await client.execute("cont")
    await resumed
    check((await client.execute("query-status"))["status"] == "running", "running after cont")

    await asyncio.sleep(1)
    stopped = asyncio.ensure_future(next_event(client, "STOP"))
    await client.execute("stop")
    ev = await stopped
    check("timestamp" in ev, f"events carry a timestamp: {ev}")
    check((await client.execute("query-status"))["status"] == "paused", "paused after stop")

    text = await client.execute("human-monitor-command", {"command-line": "info status"})
    check(text.strip() == "VM status: paused", f"HMP info status: {text!r}")
    regs = await client.execute("human-monitor-command", {"command-line": "info registers"})
    check(" pc " in regs and "x2/sp" in regs, f"HMP info registers: {regs[:200]!r}")

    # pmemsave: the first page of RAM is the firmware OpenSBI was loaded from.
    await client.execute("pmemsave", {"val": 0x80000000, "size": 4096, "filename": dump})
    with open(dump, "rb") as f, open(firmware, "rb") as g:
        check(f.read() == g.read(4096), "pmemsave matches the firmware image")

    try:
        await client.execute("no-such-command")
        check(False, "unknown command must fail")
    except Exception as e:  # qemu.qmp raises ExecuteError carrying the class
        check("CommandNotFound" in repr(e) or "not found" in str(e), f"unknown command error: {e!r}")

    await client.execute("cont")
    reset = asyncio.ensure_future(next_event(client, "RESET"))
    await client.execute("system_reset")
    ev = await reset
    check(ev["data"]["guest"] is False, f"host-requested reset: {ev}")
    await asyncio.sleep(1)
    check((await client.execute("query-status"))["status"] == "running", "running after reset")

    powerdown = asyncio.ensure_future(next_event(client, "POWERDOWN"))
    shutdown = asyncio.ensure_future(next_event(client, "SHUTDOWN"))
    await client.execute("system_powerdown")
    await powerdown
    await shutdown
    try:
        await client.disconnect()
    except Exception:
        pass  # mimic has gone away, which is the point
    print("QMP-SESSION-OK")


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
