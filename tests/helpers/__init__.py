"""What the tests share that is not a fixture (fixtures live in the conftest.py files): import
it from its module, `from tests.helpers.launch import launch_app`."""

import pytest

# Their asserts report as a test's do (pytest rewrites test modules and conftests on its own).
pytest.register_assert_rewrite("tests.helpers")
