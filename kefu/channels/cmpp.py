"""CMPP 2.0 (China Mobile Peer to Peer, the SP ↔ ISMG SMS protocol over TCP): a pure codec, a client,
and the SMS adapter and listener built on them.

Every PDU is a 12-byte header (Total_Length, Command_Id, Sequence_Id; big-endian unsigned 32-bit) and
a body of fixed-width fields (octet strings padded with NUL). The SP logs in with CONNECT, whose
AuthenticatorSource is MD5(Source_Addr + 9 NUL bytes + shared secret + timestamp "MMDDHHMMSS"); the
ISMG answers CONNECT_RESP with a status and MD5(status + AuthenticatorSource + shared secret). SUBMIT
sends a message (a long one as parts with a user data header, TP_udhi = 1) and SUBMIT_RESP gives its
Msg_Id; the ISMG sends DELIVER for a handset's message (MO) or, with Registered_Delivery = 1, a status
report naming the submitted Msg_Id (Stat "DELIVRD" when delivered). Either side keeps the link alive
with ACTIVE_TEST. Every request is acknowledged by its _RESP with the same Sequence_Id.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kefu.channels import sms
from kefu.channels.adapters import (
    BadPayload,
    DeliveryReport,
    Outbound,
    Parsed,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings

CONNECT, CONNECT_RESP = 0x00000001, 0x80000001
TERMINATE, TERMINATE_RESP = 0x00000002, 0x80000002
SUBMIT, SUBMIT_RESP = 0x00000004, 0x80000004
DELIVER, DELIVER_RESP = 0x00000005, 0x80000005
ACTIVE_TEST, ACTIVE_TEST_RESP = 0x00000008, 0x80000008
VERSION = 0x20
HEADER = struct.Struct(">III")
MAX_PDU = 4096
FMT_ASCII, FMT_UCS2, FMT_GBK = 0, 8, 15
CONNECT_STATUS = {0: "ok", 1: "bad message structure", 2: "illegal source address", 3: "authentication failed",
                  4: "version too high"}


class CmppError(Exception):
    pass


# ---- codec (pure) ----

def octets(value: str | bytes, size: int) -> bytes:
    raw = value.encode("ascii") if isinstance(value, str) else value
    if len(raw) > size:
        raise ValueError(f"{raw!r} is longer than {size} octets")
    return raw.ljust(size, b"\0")


def text_of(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def timestamp(at: datetime) -> str:
    return at.strftime("%m%d%H%M%S")


def authenticator_source(source_addr: str, secret: str, ts: str) -> bytes:
    return hashlib.md5(source_addr.encode() + b"\0" * 9 + secret.encode() + ts.encode()).digest()


def authenticator_ismg(status: int, auth_source: bytes, secret: str) -> bytes:
    return hashlib.md5(bytes([status]) + auth_source + secret.encode()).digest()


def pdu(command: int, seq: int, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER.size + len(body), command, seq) + body


def split_frame(buf: bytes) -> tuple[tuple[int, int, bytes] | None, bytes]:
    """(command, sequence, body) of the first whole PDU in `buf` and what follows, or (None, buf)."""
    if len(buf) < HEADER.size:
        return None, buf
    length, command, seq = HEADER.unpack_from(buf)
    if length < HEADER.size or length > MAX_PDU:
        raise CmppError(f"PDU length {length} out of range")
    if len(buf) < length:
        return None, buf
    return (command, seq, buf[HEADER.size:length]), buf[length:]


def connect_body(source_addr: str, secret: str, at: datetime) -> bytes:
    ts = timestamp(at)
    return (octets(source_addr, 6) + authenticator_source(source_addr, secret, ts) + bytes([VERSION])
            + struct.pack(">I", int(ts)))


@dataclass(frozen=True)
class Connect:
    source_addr: str
    authenticator: bytes
    version: int
    timestamp: int

    @staticmethod
    def decode(body: bytes) -> Connect:
        if len(body) != 27:
            raise CmppError(f"CONNECT body of {len(body)} octets (27 expected)")
        return Connect(text_of(body[:6]), body[6:22], body[22], struct.unpack(">I", body[23:27])[0])


def encode_content(text: str) -> tuple[int, bytes]:
    if text.isascii():
        return FMT_ASCII, text.encode("ascii")
    return FMT_UCS2, text.encode("utf-16-be")


def decode_content(fmt: int, raw: bytes) -> str:
    if fmt == FMT_UCS2:
        return raw.decode("utf-16-be", "replace")
    if fmt == FMT_GBK:
        return raw.decode("gbk", "replace")
    return raw.decode("ascii" if fmt == FMT_ASCII else "latin-1", "replace")


@dataclass(frozen=True)
class Submit:
    dest: tuple[str, ...]
    content: bytes
    msg_fmt: int
    src_id: str = ""
    service_id: str = ""
    pk_total: int = 1
    pk_number: int = 1
    registered_delivery: int = 1
    udhi: int = 0
    msg_src: str = ""

    def encode(self) -> bytes:
        return (b"\0" * 8 + bytes([self.pk_total, self.pk_number, self.registered_delivery, 1])
                + octets(self.service_id, 10) + bytes([0]) + octets("", 21) + bytes([0, self.udhi, self.msg_fmt])
                + octets(self.msg_src, 6) + octets("01", 2) + octets("000000", 6) + octets("", 17) + octets("", 17)
                + octets(self.src_id, 21) + bytes([len(self.dest)]) + b"".join(octets(d, 21) for d in self.dest)
                + bytes([len(self.content)]) + self.content + b"\0" * 8)

    @staticmethod
    def decode(body: bytes) -> Submit:
        try:
            pk_total, pk_number, reg = body[8], body[9], body[10]
            service_id = text_of(body[12:22])
            udhi, fmt = body[45], body[46]
            msg_src = text_of(body[47:53])
            src_id = text_of(body[95:116])
            n = body[116]
            dest = tuple(text_of(body[117 + 21 * i:138 + 21 * i]) for i in range(n))
            at = 117 + 21 * n
            length = body[at]
            content = body[at + 1:at + 1 + length]
            if len(content) != length or len(body) != at + 1 + length + 8:
                raise CmppError("SUBMIT length fields do not match the PDU")
        except IndexError:
            raise CmppError("SUBMIT body too short") from None
        return Submit(dest, content, fmt, src_id, service_id, pk_total, pk_number, reg, udhi, msg_src)


@dataclass(frozen=True)
class Deliver:
    msg_id: int
    dest_id: str
    src_terminal_id: str
    msg_fmt: int
    content: bytes
    udhi: int = 0
    registered_delivery: int = 0  # 1: a status report
    service_id: str = ""

    def encode(self) -> bytes:
        return (struct.pack(">Q", self.msg_id) + octets(self.dest_id, 21) + octets(self.service_id, 10)
                + bytes([0, self.udhi, self.msg_fmt]) + octets(self.src_terminal_id, 21)
                + bytes([self.registered_delivery, len(self.content)]) + self.content + b"\0" * 8)

    @staticmethod
    def decode(body: bytes) -> Deliver:
        if len(body) < 73:
            raise CmppError("DELIVER body too short")
        (msg_id,) = struct.unpack(">Q", body[:8])
        length = body[64]
        content = body[65:65 + length]
        if len(content) != length:
            raise CmppError("DELIVER Msg_Length beyond the PDU")
        return Deliver(msg_id, text_of(body[8:29]), text_of(body[42:63]), body[41], content, body[40], body[63],
                       text_of(body[29:39]))


@dataclass(frozen=True)
class StatusReport:
    msg_id: int  # the Msg_Id SUBMIT_RESP gave
    stat: str  # DELIVRD, EXPIRED, UNDELIV, ...
    submit_time: str
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int = 0

    def encode(self) -> bytes:
        return (struct.pack(">Q", self.msg_id) + octets(self.stat, 7) + octets(self.submit_time, 10)
                + octets(self.done_time, 10) + octets(self.dest_terminal_id, 21)
                + struct.pack(">I", self.smsc_sequence))

    @staticmethod
    def decode(raw: bytes) -> StatusReport:
        if len(raw) != 60:
            raise CmppError(f"status report of {len(raw)} octets (60 expected)")
        return StatusReport(struct.unpack(">Q", raw[:8])[0], text_of(raw[8:15]), text_of(raw[15:25]),
                            text_of(raw[25:35]), text_of(raw[35:56]), struct.unpack(">I", raw[56:60])[0])


def submit_parts(dest: str, text: str, *, ref: int, src_id: str = "", service_id: str = "",
                 msg_src: str = "") -> list[Submit]:
    """The SUBMITs of one message: one, or one per part with a concatenation header (140 octets each)."""
    parts = sms.split(text)
    out = []
    for i, part in enumerate(parts, 1):
        fmt, raw = encode_content(part) if len(parts) == 1 else (FMT_UCS2, part.encode("utf-16-be"))
        udhi = 0
        if len(parts) > 1:
            raw, udhi = sms.udh(ref, len(parts), i) + raw, 1
        out.append(Submit((dest,), raw, fmt, src_id, service_id, len(parts), i, 1, udhi, msg_src))
    return out


def parsed(delivers: list[Deliver]) -> Parsed:
    """DELIVERs as the adapter interface's Parsed: status reports, MO messages, parts of long MOs."""
    out = Parsed()
    for d in delivers:
        if d.registered_delivery == 1:
            try:
                rep = StatusReport.decode(d.content)
            except CmppError as exc:
                raise BadPayload(str(exc)) from None
            ok = rep.stat == sms.DELIVERED
            out.reports.append(DeliveryReport(str(rep.msg_id), ok, None if ok else rep.stat))
            continue
        content = d.content
        concat = None
        if d.udhi:
            concat, content = sms.parse_udh(content)
        text = decode_content(d.msg_fmt, content)
        if concat is not None and concat[1] > 1:
            out.fragments.append(sms.Fragment(str(d.msg_id), d.src_terminal_id, *concat, text))
        else:
            out.messages.append(InboundMessage(message_id=str(d.msg_id), sender=d.src_terminal_id, text=text))
    return out


# ---- client ----

@dataclass
class CmppClient:
    """One SP connection to the ISMG (blocking sockets; one thread uses it)."""

    host: str
    port: int
    source_addr: str
    secret: str
    timeout: float = 10.0
    sock: socket.socket | None = None
    delivers: list[Deliver] = field(default_factory=list)  # received (and acknowledged), not yet taken
    _seq: int = 0
    _buf: bytes = b""

    def _next_seq(self) -> int:
        self._seq = self._seq % 0x7FFFFFFF + 1
        return self._seq

    def connect(self, at: datetime) -> None:
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise TemporaryFailure(f"CMPP gateway unreachable: {exc}") from None
        seq = self._next_seq()
        body = connect_body(self.source_addr, self.secret, at)
        self._send(pdu(CONNECT, seq, body))
        resp = self._await(CONNECT_RESP, seq)
        status = resp[0]
        if status != 0:
            self.close(terminate=False)
            raise PermanentFailure(f"CMPP CONNECT refused: {status} ({CONNECT_STATUS.get(status, 'error')})")
        if resp[1:17] != authenticator_ismg(status, body[6:22], self.secret):
            self.close(terminate=False)
            raise PermanentFailure("CMPP CONNECT_RESP with a wrong AuthenticatorISMG (not our gateway)")

    def submit(self, s: Submit) -> int:
        seq = self._next_seq()
        self._send(pdu(SUBMIT, seq, s.encode()))
        resp = self._await(SUBMIT_RESP, seq)
        (msg_id,) = struct.unpack(">Q", resp[:8])
        if resp[8] != 0:
            raise PermanentFailure(f"CMPP SUBMIT refused: result {resp[8]}")
        return int(msg_id)

    def active_test(self) -> None:
        seq = self._next_seq()
        self._send(pdu(ACTIVE_TEST, seq))
        self._await(ACTIVE_TEST_RESP, seq)

    def poll(self, seconds: float) -> list[Deliver]:
        """DELIVERs that arrive within `seconds` (each acknowledged), with those received meanwhile."""
        assert self.sock is not None
        self.sock.settimeout(seconds)
        try:
            while True:
                self._handle(self._frame())
        except TimeoutError:
            pass
        finally:
            self.sock.settimeout(self.timeout)
        got, self.delivers = self.delivers, []
        return got

    def close(self, *, terminate: bool = True) -> None:
        if self.sock is None:
            return
        try:
            if terminate:
                seq = self._next_seq()
                self._send(pdu(TERMINATE, seq))
                self._await(TERMINATE_RESP, seq)
        except (OSError, CmppError, TemporaryFailure):
            pass
        finally:
            self.sock.close()
            self.sock = None

    # ---- plumbing ----

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise TemporaryFailure(f"CMPP connection lost: {exc}") from None

    def _frame(self) -> tuple[int, int, bytes]:
        assert self.sock is not None
        while True:
            frame, self._buf = split_frame(self._buf)
            if frame is not None:
                return frame
            chunk = self.sock.recv(4096)
            if not chunk:
                raise TemporaryFailure("CMPP connection closed by the gateway")
            self._buf += chunk

    def _await(self, command: int, seq: int) -> bytes:
        try:
            while True:
                frame = self._frame()
                if frame[0] == command and frame[1] == seq:
                    return frame[2]
                self._handle(frame)
        except TimeoutError:
            raise TemporaryFailure(f"CMPP gateway did not answer 0x{command:08x} in time") from None

    def _handle(self, frame: tuple[int, int, bytes]) -> None:
        """What the gateway sends unasked: DELIVER (kept, acknowledged), ACTIVE_TEST, TERMINATE."""
        command, seq, body = frame
        if command == DELIVER:
            d = Deliver.decode(body)
            self.delivers.append(d)
            self._send(pdu(DELIVER_RESP, seq, struct.pack(">QB", d.msg_id, 0)))
        elif command == ACTIVE_TEST:
            self._send(pdu(ACTIVE_TEST_RESP, seq, b"\0"))
        elif command == TERMINATE:
            self._send(pdu(TERMINATE_RESP, seq))
            raise TemporaryFailure("CMPP gateway terminated the connection")


def client_of(settings: Settings) -> CmppClient:
    assert settings.cmpp_host
    assert settings.cmpp_source_addr
    secret = settings.cmpp_shared_secret.get_secret_value() if settings.cmpp_shared_secret else ""
    return CmppClient(settings.cmpp_host, settings.cmpp_port, settings.cmpp_source_addr, secret,
                      settings.outbound_timeout_seconds)


class CmppAdapter:
    """Sends each reply over a connection of its own (CONNECT, SUBMIT per part, TERMINATE)."""

    channel = sms.CHANNEL

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.clock = clock or _now

    def send(self, out: Outbound) -> Sent:
        c = client_of(self.settings)
        c.connect(self.clock())
        try:
            ids = [c.submit(s) for s in submit_parts(sms.national(out.to), out.body, ref=sms.next_ref(),
                                                     src_id=self.settings.cmpp_src_id,
                                                     service_id=self.settings.cmpp_service_id,
                                                     msg_src=self.settings.cmpp_source_addr or "")]
        finally:
            c.close()
        return Sent(tuple(str(i) for i in ids))


def _now() -> datetime:
    from kefu.core.clock import utcnow

    return utcnow()


def listen(settings: Settings, handle: Callable[[Parsed], None], stop: threading.Event, *,
           poll_seconds: float = 1.0, idle_test_seconds: float = 30.0) -> None:
    """Keep a receiving connection: hand each batch of DELIVERs to `handle` (kefu.channels.ingest),
    ACTIVE_TEST when idle, reconnect after a loss, until `stop` is set."""
    while not stop.is_set():
        c = client_of(settings)
        try:
            c.connect(_now())
            idle = 0.0
            while not stop.is_set():
                got = c.poll(poll_seconds)
                if got:
                    handle(parsed(got))
                    idle = 0.0
                else:
                    idle += poll_seconds
                if idle >= idle_test_seconds:
                    c.active_test()
                    idle = 0.0
        except (TemporaryFailure, PermanentFailure, CmppError, OSError):
            stop.wait(poll_seconds)
        finally:
            c.close()
