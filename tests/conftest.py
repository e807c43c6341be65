"""Shared fixtures for the whole suite."""

import pytest

from tests.factories import AccountFactory, StaffFactory


@pytest.fixture
def ops_user(db):
    return StaffFactory(role="ops")


@pytest.fixture
def csm_user(db):
    return StaffFactory(role="csm")


@pytest.fixture
def viewer_user(db):
    return StaffFactory(role="viewer")


@pytest.fixture
def account(db):
    return AccountFactory()
