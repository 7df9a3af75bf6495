"""A raw HTTP/1.1 client for tscache's tests: one socket, answers read
off it by hand with bounded waits (BOUND_S), so tests can send what a
library would not (bad framing, pipelined requests, slow or oversized
bodies) and see exactly what the gateway answers or whether it closes.
Used through tscache_e2e (e2e.Conn, e2e.Answer, e2e.is_json_error)."""

import json
import socket
import time

BOUND_S = 5.0           # Conn: longest wait for any answer or close


class Answer:
    """One HTTP answer read off a socket: status, headers (lower-case
    names), body bytes, JSON body or None, seconds it took."""

    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body = status, headers, body
        self.elapsed = elapsed
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "Answer(%r, %r, %r, %.2fs)" % (self.status, self.headers,
                                              self.body[:200], self.elapsed)


class Conn:
    """A raw HTTP client connection with bounded reads (BOUND_S)."""

    def __init__(self, port, source=None):
        """source: the client's address (e.g. "127.0.0.2": any of
        127.0.0.0/8 reaches the gateway on 127.0.0.1)."""
        self.sock = socket.create_connection(
            ("127.0.0.1", port), BOUND_S,
            (source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        """Sends data; returns False if the gateway already closed."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _fill(self, deadline):
        """Reads more bytes; returns False on close, timeout or error."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except OSError:
            return False
        self.buf += data
        return bool(data)

    def answer(self, head=False, start=None):
        """Reads one answer within BOUND_S; None if none came whole."""
        start = start or time.monotonic()
        deadline = start + BOUND_S
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                return None
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        size = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buf) < size:
            if not self._fill(deadline):
                return None
        body, self.buf = self.buf[:size], self.buf[size:]
        return Answer(int(parts[1]), headers, body,
                      time.monotonic() - start)

    def closed(self):
        """True if the gateway closes the connection within BOUND_S
        (data it still sends is read and dropped)."""
        deadline = time.monotonic() + BOUND_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                if not self.sock.recv(65536):
                    return True
            except ConnectionResetError:
                return True
            except OSError:
                return False

    def close(self):
        self.sock.close()


def is_json_error(a, status, error=None):
    """a is the status with a JSON {"error","detail"} body."""
    return (a is not None and a.status == status
            and a.headers.get("content-type") == "application/json"
            and isinstance(a.json, dict)
            and set(a.json) == {"error", "detail"}
            and (error is None or a.json["error"] == error)
            and isinstance(a.json["detail"], str) and a.json["detail"] != "")
