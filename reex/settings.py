"""Settings for reex, all read from the environment in ``reex/conf/`` and nowhere else.

Every variable has an embedded default so that a fresh clone runs with nothing but
Python: SQLite under ``var/``, Celery on kombu's filesystem transport, a file-based
cache and mail written to files. Production switches each default off by variable.

Each module of ``reex/conf/`` is one section, imported here in the order below; a section
may import an earlier one's values (``VAR_DIR``, ``REEX_HTTPS``) but never a later one's.
"""

# isort: off
from reex.conf.core import *  # noqa: F403
from reex.conf.database import *  # noqa: F403
from reex.conf.cache import *  # noqa: F403
from reex.conf.celery import *  # noqa: F403
from reex.conf.email import *  # noqa: F403
from reex.conf.security import *  # noqa: F403
from reex.conf.auth import *  # noqa: F403
from reex.conf.monitoring import *  # noqa: F403
from reex.conf.api import *  # noqa: F403
from reex.conf.product import *  # noqa: F403
from reex.conf.beat import *  # noqa: F403
