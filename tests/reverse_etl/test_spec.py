"""Sync specs: the shipped four load; a malformed spec names its file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldloop.errors import ConfigError
from reverse_etl.spec import SYNCS_DIR, find_spec, load_all, load_spec

VALID = """\
name: demo
source:
  model: sync_crm__contacts
  destination_id: crm_record_id
destination:
  system: crm
  object: contacts
  match: email
fields:
  email: email
  firstname: firstname
"""


def write(tmp_path: Path, text: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str, name: str = "demo") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(ConfigError) as caught:
        load_spec(path)
    return str(caught.value)


def test_the_four_shipped_syncs_load_with_their_destinations() -> None:
    specs = {s.name: s for s in load_all()}
    assert set(specs) == {"crm_contacts", "erp_contacts", "shop_customers", "deal_invoices"}
    assert (specs["crm_contacts"].destination.system, specs["crm_contacts"].batch_size()) == (
        "crm", 100)
    assert specs["erp_contacts"].batch_size() == 50
    assert specs["shop_customers"].source.shop == "shop"
    assert specs["deal_invoices"].mode == "insert"
    assert specs["deal_invoices"].constants["Type"] == "ACCREC"


def test_a_valid_spec_gets_the_published_pace_by_default(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, VALID))
    assert spec.pace_of() == (19.0, 190)
    assert spec.with_pace(0).pace_of()[0] == 0
    assert spec.removed_policy() == "ignore"


def test_unknown_mode_names_the_line_and_the_choices(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID + "mode: upsrt\n")
    assert message.startswith(f"{tmp_path / 'demo.yml'}:12: mode:")
    assert "use upsert, update, insert or mirror" in message


def test_a_misspelt_key_is_pointed_at(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID.replace("  match: email", "  match: email\n  objekt: x"))
    assert ":9: destination.objekt:" in message
    assert "remove `objekt` or check its spelling" in message


def test_a_missing_section_names_the_parent_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID.replace("  model: sync_crm__contacts\n", ""))
    assert ":2: source.model: Field required" in message
    assert "add `model:`" in message


def test_the_match_field_must_be_mapped(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID.replace("match: email", "match: phone"))
    assert ":8: destination.match: match field 'phone' is not a mapped field" in message
    assert "map it under `fields:`" in message


def test_batch_size_above_the_destination_limit(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID + "pace:\n  batch_size: 500\n")
    assert ":13: pace.batch_size: batch_size 500 exceeds crm's limit of 100" in message


def test_name_must_match_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID, name="other")
    assert "other.yml:1: name: name 'demo' differs from the file name 'other'" in message


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID + "fields: [unclosed\n")
    assert "demo.yml:13: not valid YAML: expected ',' or ']'" in message
    assert "while parsing a flow sequence started on line 12" in message


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID + "guards:\n  max_changed_percent: lots\n")
    assert ":13: guards.max_changed_percent: Input should be a valid number" in message


def test_shop_sync_needs_a_shop_column_and_cannot_mirror(tmp_path: Path) -> None:
    shop = VALID.replace("system: crm", "system: shop").replace("object: contacts",
                                                                "object: customers")
    assert "needs the column naming each row's shop" in error_of(tmp_path, shop)
    mirrored = shop.replace("  destination_id", "  shop: shop\n  destination_id")
    assert "shop syncs cannot mirror" in error_of(tmp_path, mirrored + "mode: mirror\n")


def test_unknown_sync_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        find_spec("crm_contact")
    assert "known: crm_contacts, deal_invoices, erp_contacts, shop_customers" in str(caught.value)
    assert str(SYNCS_DIR) in str(caught.value)
