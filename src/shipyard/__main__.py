from __future__ import annotations

from shipyard.cli import main

raise SystemExit(main())
