"""Schema.by_key_prefix keeps answering right as objects come and go."""

from __future__ import annotations

from sf_sim.schema import ObjectDef, Schema


def _obj(name: str, prefix: str) -> ObjectDef:
    return ObjectDef(name=name, label=name, label_plural=name + "s", key_prefix=prefix)


def test_prefix_lookup_follows_adds_removes_and_changes() -> None:
    schema = Schema([_obj("Alpha__c", "a01"), _obj("Beta__c", "a02")])
    assert schema.by_key_prefix("a01").name == "Alpha__c"  # type: ignore[union-attr]
    assert schema.by_key_prefix("zzz") is None
    schema.add(_obj("Gamma__c", "a03"))
    assert schema.by_key_prefix("a03").name == "Gamma__c"  # type: ignore[union-attr]
    schema.add(_obj("Second__c", "a01"))  # a duplicate prefix: the first added still answers
    assert schema.by_key_prefix("a01").name == "Alpha__c"  # type: ignore[union-attr]
    schema.remove("Alpha__c")
    assert schema.by_key_prefix("a01").name == "Second__c"  # type: ignore[union-attr]
    beta = schema.object("Beta__c")
    assert beta is not None
    beta.key_prefix = "a09"
    assert schema.by_key_prefix("a02") is None
    assert schema.by_key_prefix("a09") is beta
