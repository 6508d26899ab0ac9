"""The gateway's rules, free of I/O: where a path goes, which headers cross, when a call may be
sent again."""
