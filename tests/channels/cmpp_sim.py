"""A CMPP 2.0 ISMG simulator on loopback, behaving as the real gateway does towards an SP:

- the first PDU must be CONNECT: the Source_Addr must be a known SP, the AuthenticatorSource must be
  MD5(Source_Addr + 9 NUL + secret + timestamp) for the timestamp sent, the version 2.0; else CONNECT_RESP
  with status 2 (illegal source address), 3 (authentication failed) or 4 (version) and the link closes;
- SUBMIT: checked (one destination of 11 digits, content within 140 octets, a concatenation header when
  TP_udhi = 1), acknowledged with a fresh Msg_Id, and with Registered_Delivery = 1 followed by a DELIVER
  carrying the status report (DELIVRD, or the stat configured for that number);
- `mo()` sends a handset's message to the connected SP as DELIVER (long ones as parts) and waits for its
  DELIVER_RESP; ACTIVE_TEST and TERMINATE are answered.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from kefu.channels import cmpp, sms


@dataclass
class Ismg:
    accounts: dict[str, str]  # Source_Addr -> shared secret
    stats: dict[str, str] = field(default_factory=dict)  # handset -> report stat (default DELIVRD)
    submitted: list[tuple[int, cmpp.Submit]] = field(default_factory=list)
    acked: set[int] = field(default_factory=set)  # DELIVER Msg_Ids the SP acknowledged
    connects: list[tuple[str, int]] = field(default_factory=list)  # (source, status)
    active_tests: int = 0
    port: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(0x1000_0000_0000_0001))
    _conns: list[Link] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def mo(self, handset: str, text: str, *, sp_number: str = "10086001") -> list[int]:
        """A handset's message to the connected SP (its DELIVER_RESPs are recorded in `acked`)."""
        link = self._conns[-1]
        parts = sms.split(text)
        ids = []
        for i, part in enumerate(parts, 1):
            fmt, raw = cmpp.encode_content(part) if len(parts) == 1 else (cmpp.FMT_UCS2, part.encode("utf-16-be"))
            udhi = 0
            if len(parts) > 1:
                raw, udhi = sms.udh(42, len(parts), i) + raw, 1
            d = cmpp.Deliver(self.next_id(), sp_number, handset, fmt, raw, udhi)
            link.send(cmpp.DELIVER, d.encode())
            ids.append(d.msg_id)
        return ids


class Link:
    def __init__(self, ismg: Ismg, sock: socket.socket) -> None:
        self.ismg, self.sock = ismg, sock
        self.seq = itertools.count(1)
        self.acked = threading.Condition()
        self.write = threading.Lock()

    def send(self, command: int, body: bytes, seq: int | None = None) -> None:
        with self.write:
            self.sock.sendall(cmpp.pdu(command, seq if seq is not None else next(self.seq), body))

    def run(self) -> None:
        buf = b""
        authed = False
        try:
            while True:
                frame, buf = cmpp.split_frame(buf)
                if frame is None:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                    continue
                command, seq, body = frame
                if not authed:
                    if command != cmpp.CONNECT:
                        return  # the real ISMG drops a link that does not log in first
                    status = self.check_connect(seq, body)
                    if status != 0:
                        return
                    authed = True
                elif command == cmpp.SUBMIT:
                    self.on_submit(seq, body)
                elif command == cmpp.DELIVER_RESP:
                    (msg_id,) = struct.unpack(">Q", body[:8])
                    with self.acked:
                        self.ismg.acked.add(msg_id)
                        self.acked.notify_all()
                elif command == cmpp.ACTIVE_TEST:
                    self.ismg.active_tests += 1
                    self.send(cmpp.ACTIVE_TEST_RESP, b"\0", seq)
                elif command == cmpp.TERMINATE:
                    self.send(cmpp.TERMINATE_RESP, b"", seq)
                    return
        except (OSError, cmpp.CmppError):
            return
        finally:
            self.sock.close()

    def check_connect(self, seq: int, body: bytes) -> int:
        try:
            c = cmpp.Connect.decode(body)
        except cmpp.CmppError:
            status, c = 1, None
        else:
            secret = self.ismg.accounts.get(c.source_addr)
            if secret is None:
                status = 2
            elif c.authenticator != cmpp.authenticator_source(c.source_addr, secret, f"{c.timestamp:010d}"):
                status = 3
            elif c.version > cmpp.VERSION:
                status = 4
            else:
                status = 0
        auth = c.authenticator if c is not None else b"\0" * 16
        secret = self.ismg.accounts.get(c.source_addr, "") if c is not None else ""
        self.ismg.connects.append((c.source_addr if c else "", status))
        self.send(cmpp.CONNECT_RESP, bytes([status]) + cmpp.authenticator_ismg(status, auth, secret)
                  + bytes([cmpp.VERSION]), seq)
        return status

    def on_submit(self, seq: int, body: bytes) -> None:
        try:
            s = cmpp.Submit.decode(body)
            ok = (len(s.dest) == 1 and len(s.dest[0]) == 11 and s.dest[0].isdigit() and len(s.content) <= 140
                  and (s.udhi == 0 or sms.parse_udh(s.content)[0] is not None))
        except Exception:
            ok, s = False, None  # type: ignore[assignment]
        msg_id = self.ismg.next_id()
        self.send(cmpp.SUBMIT_RESP, struct.pack(">QB", msg_id, 0 if ok else 1), seq)
        if not ok or s is None:
            return
        self.ismg.submitted.append((msg_id, s))
        if s.registered_delivery:
            rep = cmpp.StatusReport(msg_id, self.ismg.stats.get(s.dest[0], "DELIVRD"), "2612061200", "2612061201",
                                    s.dest[0])
            self.send(cmpp.DELIVER, cmpp.Deliver(self.ismg.next_id(), s.src_id, s.dest[0], 0, rep.encode(),
                                                 registered_delivery=1).encode())


@contextmanager
def serve(ismg: Ismg) -> Iterator[Ismg]:
    srv = socket.create_server(("127.0.0.1", 0))
    ismg.port = srv.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                sock, _ = srv.accept()
            except OSError:
                return
            link = Link(ismg, sock)
            ismg._conns.append(link)
            threading.Thread(target=link.run, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield ismg
    finally:
        stop.set()
        srv.close()
