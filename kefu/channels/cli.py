"""`kefu bench channels` and the long-running channel listeners (`kefu channels smtp-ingress`,
`kefu channels cmpp-listen`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("channels")
    def bench_channels(
        db: str = typer.Option("sqlite", help="sqlite or postgres (a throwaway database)"),
        messages: int = typer.Option(300, min=10, max=20_000, help="messages per adapter (bounded; --quick default)"),
    ) -> None:
        """Inbound messages per second per adapter with real payloads, beside the generic JSON path."""
        from kefu.bench.cli import _check_db
        from kefu.channels import bench

        bench.run(db=_check_db(db), messages=messages, echo=typer.echo)

    @bench_app.command("channels-latency")
    def bench_channels_latency(
        db: str = typer.Option("sqlite", help="sqlite or postgres (a throwaway database)"),
        messages: int = typer.Option(60, min=5, max=2_000, help="messages per channel"),
    ) -> None:
        """From a message arriving (SMS JSON, WeChat XML, web chat) to its notice on an agent's open console."""
        from kefu.bench.cli import _check_db
        from kefu.channels import latency

        latency.run(db=_check_db(db), messages=messages, echo=typer.echo)

    channels = typer.Typer(help="channel listeners", no_args_is_help=True)
    app.add_typer(channels, name="channels")

    @channels.command("imap-poll")
    def imap_poll(every: float = typer.Option(0, min=0, help="seconds between polls; 0: poll once")) -> None:
        """Fetch the unseen mail of each org unit's IMAP mailbox (its e-mail configuration on the console)."""
        import imaplib
        import time

        from kefu.channels import imap
        from kefu.core.config import Settings
        from kefu.core.db import Database

        settings = Settings()
        db = Database(settings.effective_database_url)
        while True:
            for unit_id, box in imap.configured(db, settings):
                try:
                    got = imap.poll(db, settings, box)
                    typer.echo(f"unit {unit_id} {box.username}@{box.host}: {got.stored} stored, {got.refused} refused")
                except (OSError, imaplib.IMAP4.error) as exc:
                    typer.echo(f"unit {unit_id} {box.username}@{box.host}: {exc}", err=True)
            if not every:
                return
            time.sleep(every)

    @channels.command("smtp-ingress")
    def smtp_ingress(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(2525)) -> None:
        """Receive customers' e-mail by SMTP (run behind the operator's MX) until interrupted."""
        import threading

        from aiosmtpd.controller import Controller

        from kefu.channels.email import SmtpIngress
        from kefu.core.config import get_settings
        from kefu.core.db import Database

        settings = get_settings()
        c = Controller(SmtpIngress(Database(settings.effective_database_url), settings), hostname=host, port=port)
        c.start()
        typer.echo(f"SMTP ingress on {host}:{port}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            c.stop()

    @channels.command("cmpp-listen")
    def cmpp_listen() -> None:
        """Keep a CMPP receiving link to the ISMG: MO messages and status reports, until interrupted."""
        import threading

        from kefu.channels import cmpp
        from kefu.channels.adapters import Parsed
        from kefu.channels.ingest import ingest
        from kefu.core.config import get_settings
        from kefu.core.db import Database

        settings = get_settings()
        if not settings.cmpp_host or not settings.cmpp_source_addr:
            raise typer.BadParameter("set KEFU_CMPP_HOST and KEFU_CMPP_SOURCE_ADDR")
        db = Database(settings.effective_database_url)
        stop = threading.Event()

        def handle(parsed: Parsed) -> None:
            ingest(db, settings, "sms", parsed)

        try:
            cmpp.listen(settings, handle, stop)
        except KeyboardInterrupt:
            stop.set()
