"""The scaled-out shape on one machine: private PostgreSQL and Redis servers, `kefu scaled`."""
