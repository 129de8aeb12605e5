"""``python -m firewall.demo``."""

from firewall.demo import main

raise SystemExit(main())
