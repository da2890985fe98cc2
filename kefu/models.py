"""Every mapped model, imported once so metadata (Alembic, tests) sees the whole schema."""

from kefu.core import domains
from kefu.core import events as _events  # noqa: F401
from kefu.core.db import Base

domains.modules("models")

metadata = Base.metadata
