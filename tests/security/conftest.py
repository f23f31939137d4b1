from __future__ import annotations

import pytest


@pytest.fixture
def personas(counsellor, supervisor, catalog_admin):
    """One user per role, all of the same organisation."""
    return {"counsellor": counsellor, "supervisor": supervisor, "catalog admin": catalog_admin}
