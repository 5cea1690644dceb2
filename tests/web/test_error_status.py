"""Domain errors carry no HTTP status: the web layer maps each class to one (survey/errors.py)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import survey.services
from survey.errors import DOMAIN_ERROR_STATUS, status_of
from survey.services.access import Forbidden, OutOfScope
from survey.services.accounts import LastProvinceAdministrator, UnknownAccount
from survey.services.dossiers.links import LinkExpired
from survey.services.errors import DomainError, InvalidInput, NotFound
from survey.services.kiosks import KioskNotAuthorised
from survey.services.setup.drafts import NotADraft


def _every_domain_error() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(survey.services.__path__, "survey.services."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    pending = [DomainError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.add(subclass)
            pending.append(subclass)
    return found


def test_domain_errors_have_no_http_status():
    assert all(not hasattr(cls, "status_code") for cls in _every_domain_error() | {DomainError})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DomainError(), 400),
        (InvalidInput(), 400),
        (LastProvinceAdministrator(), 400),  # an InvalidInput
        (KioskNotAuthorised(), 401),
        (Forbidden(), 403),
        (OutOfScope(), 403),  # a Forbidden
        (NotFound(), 404),
        (UnknownAccount(), 404),  # a NotFound
        (NotADraft(), 409),  # an InvalidInput with its own status
        (LinkExpired(), 410),
    ],
)
def test_a_subclass_answers_as_its_nearest_listed_class(error: DomainError, status: int):
    assert status_of(error) == status


def test_every_listed_status_is_a_client_error():
    assert set(DOMAIN_ERROR_STATUS) <= _every_domain_error() | {DomainError}
    assert all(400 <= status < 500 for status in DOMAIN_ERROR_STATUS.values())
