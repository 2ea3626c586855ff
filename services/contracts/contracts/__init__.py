"""Contracts: the three-party agreement (C1, C2), consulting sessions (C3),
amendments (C5), give-up (C6), termination (C7) and the result report (C8)."""
