"""ASGI entry point for uvicorn workers: `uvicorn kefu.asgi:app`."""

from kefu.app import create_app

app = create_app()
