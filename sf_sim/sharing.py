"""Record visibility: organization-wide defaults, roles, sharing rules, View All Data.

Salesforce decides which records a user may read or edit from, in order:

1. **View All Data / Modify All Data** (on the user's profile or an assigned permission
   set): every record, always;
2. **organization-wide defaults** per object: ``ReadWrite`` (everyone reads and edits;
   the default here for every object, so an org that sets nothing behaves as before),
   ``Read`` (everyone reads, only those with access below edit) or ``Private`` (only
   those with access below read);
3. **ownership and the role hierarchy**: a user reaches the records they own and those
   owned by users in roles below theirs ("Grant Access Using Hierarchies");
4. **sharing rules**: owner-based ("records owned by role X and its subordinates") or
   criteria-based ("records whose ``Field`` equals ``value``"), shared with a role and its
   subordinates, or with every user, with ``Read`` or ``Edit`` access.

The configuration persists with the org (``_sf_meta``), so ``sf-sim serve`` and a tool
opening the same org file agree. :meth:`Sharing.read_filter` gives the SOQL engine a SQL
condition for the running user (None when nothing restricts them), applied to the root
object of every query, child subqueries and aggregates, ``query`` and ``queryAll`` alike,
and ``USING SCOPE mine`` keeps the running user's own records. :meth:`Sharing.can_edit`
guards updates: a record the user cannot edit fails with
``INSUFFICIENT_ACCESS_OR_READONLY``.

Not modelled: ``ControlledByParent`` defaults, manual shares (``ContactShare`` rows),
public groups and territories, and the rule that a Contact's visibility follows its
Account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sf_sim.records import normalise_id
from sf_sim.store import quote

if TYPE_CHECKING:
    from sf_sim.models import Org
    from sf_sim.schema import ObjectDef

__all__ = ["ACCESS_LEVELS", "SHARING_MODELS", "RowFilter", "Sharing"]

SHARING_MODELS = ("Private", "Read", "ReadWrite")
"""Organization-wide defaults an object may have (``ReadWrite`` = public read/write)."""
ACCESS_LEVELS = ("Read", "Edit")
"""Access a sharing rule grants."""

_DEFAULTS_KEY = "sharing_defaults"
_RULES_KEY = "sharing_rules"


@dataclass(frozen=True)
class RowFilter:
    """A SQL condition over one object's table: ``{alias}`` stands for its alias."""

    sql: str
    params: tuple[Any, ...] = ()

    def render(self, alias: str) -> tuple[str, list[Any]]:
        """The condition for the table aliased ``alias``, and its parameters."""
        return self.sql.replace("{alias}", alias), list(self.params)


class Sharing:
    """Visibility rules of one org (``org.sharing``).

    Args:
        org: The org.
    """

    def __init__(self, org: Org) -> None:
        self.org = org

    # ------------------------------------------------------------------ configuration

    def set_default(self, object_name: str, model: str) -> None:
        """Set an object's organization-wide default (``Private``, ``Read``, ``ReadWrite``).

        Raises:
            ValueError: For an unknown object, an object without owners, or another model.
        """
        if model not in SHARING_MODELS:
            raise ValueError(f"sharing model must be one of {', '.join(SHARING_MODELS)}")
        definition = self.org.schema.object(object_name)
        if definition is None:
            raise ValueError(f"unknown object {object_name!r}")
        if definition.field("OwnerId") is None and model != "ReadWrite":
            raise ValueError(f"{definition.name} has no owner; its records cannot be private")
        defaults = dict(self.org.store.meta(_DEFAULTS_KEY, {}))
        defaults[definition.name.lower()] = model
        self.org.store.set_meta(_DEFAULTS_KEY, defaults)

    def default(self, object_name: str) -> str:
        """An object's organization-wide default (``ReadWrite`` unless set)."""
        defaults = self.org.store.meta(_DEFAULTS_KEY, {})
        return str(defaults.get(object_name.lower(), "ReadWrite"))

    def add_role(self, name: str, *, parent: str | None = None) -> str:
        """Create a role (``UserRole``), below ``parent`` if given; returns its 00E Id."""
        developer = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_") or "Role"
        return self.org.create(
            "UserRole",
            {"Name": name, "DeveloperName": developer, "ParentRoleId": parent},
            system=True,
        )

    def assign_role(self, user_id: str, role_id: str | None) -> None:
        """Put a user in a role (None: no role)."""
        self.org.update("User", user_id, {"UserRoleId": role_id}, system=True)

    def add_owner_rule(
        self,
        object_name: str,
        *,
        owned_by_role: str,
        shared_with_role: str | None,
        access: str = "Read",
        name: str = "",
    ) -> None:
        """Share records owned by users in a role (and its subordinates).

        Args:
            object_name: The object.
            owned_by_role: Records owned by users in this role or below it.
            shared_with_role: Users in this role or below it get access; None: every user.
            access: ``Read`` or ``Edit``.
            name: The rule's name.
        """
        self._add_rule(
            {
                "object": object_name.lower(),
                "name": name or "owner rule",
                "owned_by": normalise_id(owned_by_role) or owned_by_role,
                "shared_with": normalise_id(shared_with_role) if shared_with_role else None,
                "access": access,
            }
        )

    def add_criteria_rule(
        self,
        object_name: str,
        *,
        field: str,
        value: Any,
        shared_with_role: str | None,
        access: str = "Read",
        name: str = "",
    ) -> None:
        """Share records whose ``field`` equals ``value`` (case-insensitive for text).

        Raises:
            ValueError: For an unknown object or field, or another access level.
        """
        definition = self.org.schema.object(object_name)
        item = definition.field(field) if definition is not None else None
        if item is None:
            raise ValueError(f"unknown field {object_name}.{field}")
        self._add_rule(
            {
                "object": object_name.lower(),
                "name": name or "criteria rule",
                "field": item.name,
                "value": value,
                "shared_with": normalise_id(shared_with_role) if shared_with_role else None,
                "access": access,
            }
        )

    def _add_rule(self, rule: dict[str, Any]) -> None:
        if rule["access"] not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
        if self.org.schema.object(rule["object"]) is None:
            raise ValueError(f"unknown object {rule['object']!r}")
        rules = list(self.org.store.meta(_RULES_KEY, []))
        rules.append(rule)
        self.org.store.set_meta(_RULES_KEY, rules)

    def rules(self, object_name: str | None = None) -> list[dict[str, Any]]:
        """Sharing rules (of one object)."""
        rules = self.org.store.meta(_RULES_KEY, [])
        return [r for r in rules if object_name is None or r["object"] == object_name.lower()]

    # ------------------------------------------------------------------ who sees what

    def sees_all(self, user_id: str) -> bool:
        """True if the user has View All Data or Modify All Data (profile or permission set)."""
        store = self.org.store
        row = store.conn.execute(
            "SELECT p.PermissionsViewAllData, p.PermissionsModifyAllData FROM Profile p "
            'JOIN "User" u ON u.ProfileId = p.Id WHERE u.Id = ?',
            (user_id,),
        ).fetchone()
        if row is not None and (row[0] or row[1]):
            return True
        granted = store.scalar(
            "SELECT COUNT(*) FROM PermissionSetAssignment a JOIN PermissionSet s "
            "ON s.Id = a.PermissionSetId WHERE a.AssigneeId = ? AND a.IsDeleted = 0 "
            "AND (s.PermissionsViewAllData = 1 OR s.PermissionsModifyAllData = 1)",
            (user_id,),
        )
        return bool(granted)

    def _role_of(self, user_id: str) -> str | None:
        role = self.org.store.scalar('SELECT UserRoleId FROM "User" WHERE Id = ?', (user_id,))
        return str(role) if role else None

    def _role_tree(self) -> dict[str, str | None]:
        return {
            str(role_id): (str(parent) if parent else None)
            for role_id, parent in self.org.store.conn.execute(
                "SELECT Id, ParentRoleId FROM UserRole WHERE IsDeleted = 0"
            )
        }

    @staticmethod
    def _below(tree: dict[str, str | None], role: str) -> set[str]:
        """The roles below ``role`` (not itself)."""
        children: dict[str, list[str]] = {}
        for child, parent in tree.items():
            if parent is not None:
                children.setdefault(parent, []).append(child)
        found: set[str] = set()
        todo = list(children.get(role, []))
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            todo.extend(children.get(current, []))
        return found

    def _users_in(self, roles: Iterable[str]) -> set[str]:
        listed = sorted(set(roles))
        if not listed:
            return set()
        marks = ", ".join("?" for _ in listed)
        return {
            str(row[0])
            for row in self.org.store.conn.execute(
                f'SELECT Id FROM "User" WHERE UserRoleId IN ({marks})', listed
            )
        }

    def _grants(
        self, object_name: str, user_id: str, *, edit: bool
    ) -> tuple[set[str], list[dict[str, Any]]]:
        """Owners whose records the user reaches, and the criteria rules that apply to them."""
        owners = {user_id}
        tree = self._role_tree()
        role = self._role_of(user_id)
        mine_and_above: set[str] = set()
        if role is not None:
            owners |= self._users_in(self._below(tree, role))
            current: str | None = role
            while current is not None and current not in mine_and_above:
                mine_and_above.add(current)
                current = tree.get(current)
        criteria: list[dict[str, Any]] = []
        for rule in self.rules(object_name):
            if edit and rule["access"] != "Edit":
                continue
            target = rule.get("shared_with")
            # Shared with a role and its subordinates: the user's role is it or below it.
            if target is not None and target not in mine_and_above:
                continue
            if "owned_by" in rule:
                source = str(rule["owned_by"])
                owners |= self._users_in({source} | self._below(tree, source))
            else:
                criteria.append(rule)
        return owners, criteria

    def read_filter(self, definition: ObjectDef) -> RowFilter | None:
        """The condition limiting the running user's reads of ``definition`` (None: all)."""
        if self.default(definition.name) != "Private":
            return None
        return self._filter(definition, self.org.running_user_id, edit=False)

    def _filter(self, definition: ObjectDef, user_id: str, *, edit: bool) -> RowFilter | None:
        if self.sees_all(user_id):
            return None
        owners, criteria = self._grants(definition.name, user_id, edit=edit)
        owner_column = "{alias}." + quote("OwnerId")
        marks = ", ".join("?" for _ in owners)
        terms = [f"{owner_column} IN ({marks})"]
        params: list[Any] = sorted(owners)
        for rule in criteria:
            item = definition.field(rule["field"])
            if item is None:
                continue
            terms.append("{alias}." + quote(item.name) + " = ?")
            value = rule["value"]
            params.append(int(value) if isinstance(value, bool) else value)
        return RowFilter("(" + " OR ".join(terms) + ")", tuple(params))

    def can_edit(self, definition: ObjectDef, row: dict[str, Any]) -> bool:
        """True if the running user may edit this stored record."""
        model = self.default(definition.name)
        if model == "ReadWrite" or definition.field("OwnerId") is None:
            return True
        user_id = self.org.running_user_id
        if self.sees_all(user_id):
            return True
        owners, criteria = self._grants(definition.name, user_id, edit=True)
        if row.get("OwnerId") in owners:
            return True
        for rule in criteria:
            value = row.get(rule["field"])
            wanted = rule["value"]
            if isinstance(value, str) and isinstance(wanted, str):
                if value.lower() == wanted.lower():
                    return True
            elif value == (int(wanted) if isinstance(wanted, bool) else wanted):
                return True
        return False
