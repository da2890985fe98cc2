"""E-mail by IMAP polling against a real IMAP server on loopback: Debian's dovecot-imapd, started by the
test in the foreground with a private configuration (a maildir and a password file in a temporary
folder). Mail is put into the mailbox with IMAP APPEND, as a mail server would deliver it. Skipped with
the reason when dovecot cannot run here (apt-get install dovecot-imapd)."""

from __future__ import annotations

import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select

from kefu.channels import config, imap
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.interactions.models import Interaction, Message
from tests.channels.support import counts
from tests.conftest import World

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "kefu", "imap-pass-123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dovecot() -> Iterator[int]:
    yield from _dovecot(None)


@pytest.fixture
def dovecot_ssl(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Dovecot over SSL only (IMAPS), with a certificate for 127.0.0.1 from a CA made here: (port, the CA's PEM)."""
    ca = tmp_path / "ca.pem"
    cert, key = _certificate(ca)
    for port in _dovecot((cert, key)):
        yield port, ca


def _certificate(ca_path: Path) -> tuple[bytes, bytes]:
    """A throwaway CA (written to ca_path) and the server's certificate for 127.0.0.1 it signed (PEM, key)."""
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("kefu test CA")).issuer_name(name("kefu test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return leaf.public_bytes(serialization.Encoding.PEM), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _dovecot(tls: tuple[bytes, bytes] | None) -> Iterator[int]:
    if not DOVECOT.exists():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    try:
        owner = pwd.getpwnam("dovecot")
        internal = owner.pw_name
        login = pwd.getpwnam("dovenull").pw_name
    except KeyError:
        pytest.skip("dovecot's system users (dovecot, dovenull) are missing")
    port = _free_port()
    # The mail belongs to a user that is not root (dovecot refuses uid 0): ours unless we are root.
    me = pwd.getpwuid(os.getuid()) if os.getuid() != 0 else owner
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))  # pytest's are 0700: dovecot's auth user reads here
    root.chmod(0o755)
    for d in ("run", "state", "mail"):
        (root / d).mkdir(parents=True)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "passwd").chmod(0o644)
    if os.getuid() == 0:
        os.chown(root / "mail", me.pw_uid, me.pw_gid)
    if tls is not None:
        (root / "cert.pem").write_bytes(tls[0])
        (root / "key.pem").write_bytes(tls[1])
        (root / "key.pem").chmod(0o600)
    plain, secure = (0, port) if tls is not None else (port, 0)
    ssl_conf = f"ssl = required\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem" if tls else "ssl = no"
    conf = root / "dovecot.conf"
    conf.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_conf}
first_valid_uid = {me.pw_uid}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={me.pw_uid} gid={me.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {secure}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    proc = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = (proc.stdout.read() if proc.stdout else b"").decode(errors="replace")
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.skip(f"dovecot did not start here: {(out + log)[-400:]}")
            time.sleep(0.1)
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def _connect(port: int, ca: Path | None) -> imaplib.IMAP4:
    if ca is None:
        return imaplib.IMAP4("127.0.0.1", port)
    return imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ssl.create_default_context(cafile=str(ca)))


def deliver(port: int, raw: bytes, ca: Path | None = None) -> None:
    with _connect(port, ca) as c:
        c.login(USER, PASSWORD)
        typ, _ = c.append("INBOX", None, None, raw)
        assert typ == "OK"
        c.logout()


def mail(msg_id: str, body: str, *, sender: str = "zhou.min@example.com", **headers: str) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "kefu@10086.cn"
    m["Subject"] = "账单疑问"
    m["Message-ID"] = f"<{msg_id}@example.com>"
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


def unseen(port: int, ca: Path | None = None) -> int:
    with _connect(port, ca) as c:
        c.login(USER, PASSWORD)
        c.select("INBOX")
        _, found = c.uid("SEARCH", "UNSEEN")
        c.logout()
    return len((found[0] or b"").split())


def test_unseen_mail_is_stored_in_the_mailboxs_unit_once_and_marked_seen(dovecot: int, world: World,
                                                                          settings: Settings) -> None:
    with world.db.unit_of_work() as s:
        config.save(s, settings, org_unit_id=world.units["sz"], channel="email",
                    form={"imap_host": "127.0.0.1", "imap_port": str(dovecot), "imap_username": USER,
                          "imap_password": PASSWORD, "imap_ssl": "0"}, actor_id=None, at=utcnow())
    deliver(dovecot, mail("a1", "本月账单里有一笔国际漫游费，我没有出国。"))
    deliver(dovecot, mail("a2", "我不在办公室", Auto_Submitted="auto-replied"))  # an auto-reply: no ticket
    boxes = imap.configured(world.db, settings)
    assert [(u, b.port, b.org_code) for u, b in boxes] == [(world.units["sz"], dovecot, "SZ")]
    got = imap.poll(world.db, settings, boxes[0][1])
    assert (got.stored, got.refused) == (2, 0)
    assert unseen(dovecot) == 0
    with world.db.session() as s:
        rows = s.execute(select(Message.sender, Message.body, Interaction.org_unit_id).join(Interaction)).all()
        assert [tuple(r) for r in rows] == [("zhou.min@example.com", "本月账单里有一笔国际漫游费，我没有出国。",
                                             world.units["sz"])]
    before = counts(world.db)

    # the same mail again (a second copy delivered): stored once; a poll with nothing new does nothing
    deliver(dovecot, mail("a1", "本月账单里有一笔国际漫游费，我没有出国。"))
    assert imap.poll(world.db, settings, boxes[0][1]).stored == 1
    assert imap.poll(world.db, settings, boxes[0][1]).stored == 0
    assert counts(world.db) == before


def test_a_refused_mail_is_kept_and_marked_seen(dovecot: int, world: World, settings: Settings) -> None:
    box = imap.Mailbox("127.0.0.1", dovecot, USER, PASSWORD)
    small = settings.model_copy(update={"max_message_bytes": 100, "email_max_attachment_bytes": 10})
    deliver(dovecot, mail("big", "长" * 400))
    got = imap.poll(world.db, small, box)
    assert (got.stored, got.refused) == (0, 1)
    assert unseen(dovecot) == 0
    c = counts(world.db)
    assert (c["messages"], c["rejections"]) == (0, 1)


def test_wrong_credentials_raise_and_leave_the_mail_unseen(dovecot: int, world: World, settings: Settings) -> None:
    deliver(dovecot, mail("x1", "你好"))
    with pytest.raises(imaplib.IMAP4.error):
        imap.poll(world.db, settings, imap.Mailbox("127.0.0.1", dovecot, USER, "wrong"))
    assert unseen(dovecot) == 1
    assert counts(world.db)["messages"] == 0


def test_a_mailbox_over_ssl_is_polled_when_its_certificate_checks_out(dovecot_ssl: tuple[int, Path], world: World,
                                                                      settings: Settings) -> None:
    port, ca = dovecot_ssl
    deliver(port, mail("s1", "宽带每天晚上八点断线。"), ca)
    with pytest.raises(ssl.SSLCertVerificationError):  # a certificate no trusted CA signed: not a word sent
        imap.poll(world.db, settings, imap.Mailbox("127.0.0.1", port, USER, PASSWORD, ssl=True))
    assert unseen(port, ca) == 1
    assert counts(world.db)["messages"] == 0
    with world.db.unit_of_work() as s:  # the operator's CA, set on the console
        config.save(s, settings, org_unit_id=world.units["gz"], channel="email",
                    form={"imap_host": "127.0.0.1", "imap_port": str(port), "imap_username": USER,
                          "imap_password": PASSWORD, "imap_ssl": "1", "imap_ca_file": str(ca)},
                    actor_id=None, at=utcnow())
    [(unit, box)] = imap.configured(world.db, settings)
    assert (unit, box.ssl, box.ca_file) == (world.units["gz"], True, str(ca))
    got = imap.poll(world.db, settings, box)
    assert (got.stored, got.refused) == (1, 0)
    assert unseen(port, ca) == 0
    with world.db.session() as s:
        rows = s.execute(select(Message.sender, Message.body, Interaction.org_unit_id).join(Interaction)).all()
        assert [tuple(r) for r in rows] == [("zhou.min@example.com", "宽带每天晚上八点断线。", world.units["gz"])]
