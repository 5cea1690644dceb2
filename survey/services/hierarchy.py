"""The agency hierarchy's one subtree rule, used by scopes (access), reports and the inbox.

An agency's subtree is the agency, its sub-units at any depth (``Agency.parent``), and the retired
agencies whose ``successor`` is inside it, with their own sub-units: a merged commune's subtree
holds the history of the communes it replaced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy.orm import Session

from survey.storage import queries

# (agency id, parent id, successor id)
Link = tuple[int, int | None, int | None]


def subtree_ids(links: Iterable[Link], root_id: int) -> frozenset[int]:
    """The ids of ``root_id``'s subtree, given every agency's (id, parent id, successor id)."""
    below: dict[int, list[int]] = defaultdict(list)
    for agency_id, parent_id, successor_id in links:
        if parent_id is not None:
            below[parent_id].append(agency_id)
        if successor_id is not None:
            below[successor_id].append(agency_id)  # a retired predecessor's history
    found = {root_id}
    pending = [root_id]
    while pending:
        for child in below[pending.pop()]:
            if child not in found:
                found.add(child)
                pending.append(child)
    return frozenset(found)


def agency_subtree(session: Session, root_id: int) -> frozenset[int]:
    """The ids of the stored agency ``root_id``'s subtree (see the module's docstring)."""
    links = ((row.id, row.parent_id, row.successor_id) for row in queries.agency_links(session))
    return subtree_ids(links, root_id)
