"""Serve the app with no network and call it through its API; exit 0 if all is well.

Run by tests/test_offline.py inside a network namespace that has only loopback.
With --guard (where no namespace can be made) the app's process instead makes
every non-loopback connection or name lookup fail loudly, and any attempt fails
the check. Only the app's process is guarded: the test's own gradio_client may
phone home, the product may not.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "::1", "localhost", None)


def guard_network() -> None:
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def refuse(what: str):
        print(f"NETWORK ATTEMPT: {what}", file=sys.stderr, flush=True)
        raise OSError("network disabled by offline_check")

    def connect(sock, address):
        if sock.family != socket.AF_UNIX and address[0] not in LOOPBACK:
            refuse(f"connect {address}")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            refuse(f"resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.getaddrinfo = getaddrinfo


def serve(port: int, guard: bool) -> None:
    if guard:
        guard_network()
    sys.path.insert(0, str(ROOT))
    from model import Translator

    assert Translator.load(device="cpu").translate("Let's go.").text
    import app

    app.demo.launch(server_name="127.0.0.1", server_port=port, quiet=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call_app(port: int) -> dict:
    from gradio_client import Client

    deadline = time.time() + 120
    while True:
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/translate"]
    arguments = [p.get("parameter_default", p.get("example_input")) for p in endpoint["parameters"]]
    arguments[0] = "Where is the station?"
    result = client.predict(*arguments, api_name="/translate")
    return next(item for item in result if isinstance(item, dict))  # the Translation.to_dict() output


def main() -> int:
    guard = "--guard" in sys.argv
    if "--serve" in sys.argv:
        serve(int(sys.argv[sys.argv.index("--serve") + 1]), guard)
        return 0
    port = free_port()
    command = [sys.executable, __file__, "--serve", str(port)] + (["--guard"] if guard else [])
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        data = call_app(port)
        assert len(data["attention"]) == len(data["target_tokens"]) > 0, data
    finally:
        server.terminate()
        errors = server.communicate(timeout=30)[1]
    if "NETWORK ATTEMPT" in errors:
        print(errors[-3000:])
        return 1
    print("offline ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
