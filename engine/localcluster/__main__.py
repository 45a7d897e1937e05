"""`python -m engine.localcluster`: run the embedded API server as a process (see `server.main`)."""

import sys

from engine.localcluster import server

sys.exit(server.main())
