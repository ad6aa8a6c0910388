"""Imported by the function workers' fork server alone, as the first of its preloaded modules: serve
stops its workers itself, so a terminal's Ctrl-C, sent to the whole process group, is not theirs.

The fork server keeps the signal handlers its preloaded modules leave and gives them to each process
it forks, so a worker ignores SIGINT from its first instruction — also one forked at the moment of a
Ctrl-C, before its own code runs (a handler set there came too late once, and the worker printed a
KeyboardInterrupt traceback). serve's own processes never import this module."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
