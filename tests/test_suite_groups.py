"""The suite's own set-up: the worker groups of tests/conftest.py reach pytest-xdist."""

from conftest import THREADED_GROUP, THREADED_KERNELS


@THREADED_KERNELS
def test_a_grouped_test_is_scheduled_by_its_group(request):
    # pytest-xdist (--dist loadgroup) sends a group to one worker by a suffix it adds to the
    # test's id. Where it cannot (pytest 9) the suffix is lost without an error: every test is
    # then its own group, and both workers compile the threaded kernels at once (minutes)
    if getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith(f"@{THREADED_GROUP}")
