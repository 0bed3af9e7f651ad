#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dead-listener.py: the dead destination of bench/bench-delivery. It accepts every
connection on 127.0.0.1:PORT and never answers: each delivery to it waits until the
delivery worker's timeout. It reads what it is sent (so the sender's writes never block)
and closes a connection when the peer does.

    dead-listener.py PORT
"""

import selectors
import socket
import sys


def main():
    port = int(sys.argv[1])
    sel = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    sel.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is listener:
                conn, _ = listener.accept()
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(sock)
                sock.close()


if __name__ == "__main__":
    main()
