"""Every mapped model, imported once so metadata (Alembic, tests) sees the whole schema."""

from kefu.core import events as _events  # noqa: F401
from kefu.core.db import Base
from kefu.customers import models as _customers  # noqa: F401
from kefu.interactions import models as _interactions  # noqa: F401
from kefu.jobs import models as _jobs  # noqa: F401
from kefu.knowledge import models as _knowledge  # noqa: F401
from kefu.org import models as _org  # noqa: F401
from kefu.routing import models as _routing  # noqa: F401
from kefu.tickets import models as _tickets  # noqa: F401
from kefu.workforce import models as _workforce  # noqa: F401

metadata = Base.metadata
