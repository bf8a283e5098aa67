from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
from tests.conftest import World
from tests.templates.plans import TOWNS


@pytest.fixture
def towns(db: Session, world: World) -> list[Organisation]:
    """Twenty municipalities that have named vendor X as theirs."""
    made = [
        Organisation(kind=OrgKind.municipality, code=f"town-{n:02}", name=f"町{n:02}")
        for n in range(TOWNS)
    ]
    db.add_all(made)
    db.flush()
    db.add_all(
        Partnership(municipality=town, vendor=world.orgs["vendor_x"], granted_by="test")
        for town in made
    )
    db.commit()
    return made
