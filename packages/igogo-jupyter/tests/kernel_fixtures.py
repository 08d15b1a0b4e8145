"""Moved to ``igogo_jupyter.testing``; kept only for test_faults.py, which still imports it."""

from igogo_jupyter.testing import *  # noqa: F403
from igogo_jupyter.testing._fixtures import _failed_key as _failed_key
