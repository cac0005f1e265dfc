"""Hook of the duplicate-contacts-merged scenario: what data cannot say.

Choosing which duplicate survives a merge is an admin's judgement: here the oldest
Contact wins, as Salesforce's duplicate management suggests by default.
"""

from __future__ import annotations

from scenarios.invariants import Mismatch, soql_list
from scenarios.play import Play


def merge_duplicates(play: Play, email: str) -> str:
    """Merge every Contact with ``email`` into the oldest one."""
    rows = play.org.query(
        f"SELECT Id FROM Contact WHERE Email IN ({soql_list([email])}) ORDER BY CreatedDate, Id"
    )
    if len(rows) < 2:
        return f"nothing to merge for {email}"
    master, losers = rows[0]["Id"], [r["Id"] for r in rows[1:3]]
    play.org.merge(master, losers)
    return f"merged {len(losers)} duplicate Contact(s) of {email} into {master}"


def memberships_point_at_survivor(play: Play, email: str) -> list[Mismatch]:
    """Every membership of ``email`` links to the one live Contact with that email."""
    live = [
        r["Id"]
        for r in play.org.query(f"SELECT Id FROM Contact WHERE Email IN ({soql_list([email])})")
    ]
    members = play.org.query(
        "SELECT CM_Id__c, Contact__c FROM CMSF_List_Member__c "
        f"WHERE Email__c IN ({soql_list([email])})"
    )
    return [
        Mismatch(f"Contact {live[0] if live else '?'}", m["Contact__c"], m["CM_Id__c"])
        for m in members
        if m["Contact__c"] not in live
    ]
