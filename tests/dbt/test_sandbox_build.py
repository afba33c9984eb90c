"""The models on a real (small) sandbox world: one extract + `dbt build` shared by every test.

The world: 500 customers (seed 42) served by the sandbox, extracted by the pipelines into DuckDB,
built by `dbt build` (see world.py). Kept in one module so a parallel run builds it once.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.model import components, pairwise
from tests.dbt.world import REPO, BuiltWorld, copy_project, dbt

CUSTOMER_OBJECTS = {("crm", "contacts"), ("erp", "contacts"), ("shop", "customers")}

# Measured on this world: rules only precision 1.000, recall 0.974; rules + Splink 1.000 / 0.992
# (2,000 customers, seed 42: 1.000 / 0.967 and 0.997 / 0.993).
MIN_PRECISION = 0.99
MIN_RECALL = 0.99

RECONCILIATIONS = {
    "orders_vs_invoices": ("order_missing_invoice", "invoice_amount_mismatch",
                           "duplicate_invoice"),
    "deals_vs_invoices": ("deal_won_not_invoiced", "deal_invoice_amount_mismatch"),
    "leavers_with_access": ("leaver_active_owner",),
}


# -- the build ------------------------------------------------------------------------------------
def test_build_passes_every_model_test_and_unit_test(built: BuiltWorld) -> None:
    assert built.build.returncode == 0, built.build.stdout[-5000:]
    statuses = {r["unique_id"]: r["status"] for r in built.run_results["results"]}
    failed = {uid: s for uid, s in statuses.items()
              if s not in ("success", "pass", "warn", "no-op")}  # no-op: saved queries
    assert failed == {}
    assert any(uid.startswith("unit_test.") for uid in statuses)


def test_marts_land_in_the_marts_schema_with_rows(built: BuiltWorld) -> None:
    counts = dict(built.query(
        "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"))
    assert {"customers", "customer_xref", "orders_vs_invoices"} <= counts.keys()
    assert built.query("select count(*) from marts.customers")[0][0] > 300


# -- identity -------------------------------------------------------------------------------------

def test_customer_xref_covers_every_customer_record_exactly_once(built: BuiltWorld) -> None:
    xref = Counter(built.query("select system, object, record_id from marts.customer_xref"))
    truth = Counter((s, o, r) for s, o, r, _ in built.truth if (s, o) in CUSTOMER_OBJECTS)
    assert max(xref.values()) == 1
    assert set(xref) == set(truth)


def test_matching_agrees_with_ground_truth(built: BuiltWorld) -> None:
    predicted = {f"{s}:{o}:{r}": c for c, s, o, r in built.query(
        "select customer_id, system, object, record_id from marts.customer_xref")}
    truth = {f"{s}:{o}:{r}": e for s, o, r, e in built.truth if (s, o) in CUSTOMER_OBJECTS}
    rule_edges = built.query("""
        select record_key, linked_record_key from intermediate.int_customer_match_edges
        where match_rule not in ('probabilistic', 'steward')
    """)
    rules_only = pairwise(components(list(predicted), rule_edges), truth)
    precision, recall = pairwise(predicted, truth)
    print(f"customer matching, rules only: precision {rules_only[0]:.4f}, recall "
          f"{rules_only[1]:.4f}; rules + Splink: precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL
    assert recall > rules_only[1]  # the probabilistic step finds what the rules miss


def test_review_queue_holds_only_undecided_pairs_between_the_thresholds(
        built: BuiltWorld) -> None:
    rows = built.query("""
        select r.match_probability, r.customer_id_a <> r.customer_id_b, r.first_name_a,
            r.first_name_b, s.agrees_beyond_names
        from marts.customer_match_reviews r
        join intermediate.int_customer_pairs_scored s
            on s.record_key_a = r.record_key_a and s.record_key_b = r.record_key_b
    """)
    assert rows
    # from 0.8 up only pairs that share nothing but a name wait (they need 0.99)
    assert all(0.3 <= p < 0.99 and apart and (p < 0.8 or not beyond)
               for p, apart, _, _, beyond in rows)
    assert all(a is not None or b is not None for _, _, a, b, _ in rows)  # side by side


def test_every_golden_customer_has_its_records_and_lineage(built: BuiltWorld) -> None:
    orphans = built.query("""
        select count(*) from marts.customers c
        where not exists (select 1 from marts.customer_xref x where x.customer_id = c.customer_id)
    """)
    assert orphans == [(0,)]
    unexplained = built.query("""
        select count(*) from marts.customers
        where (email is not null and email__source is null)
           or (phone is not null and phone__updated_at is null)
           or (address_line1 is not null and city__source <> address_line1__source)
    """)
    assert unexplained == [(0,)]


def test_an_opt_out_anywhere_is_an_opt_out_for_the_customer(built: BuiltWorld) -> None:
    consenting_despite_opt_out = built.query("""
        select count(*)
        from marts.customers c
        join marts.customer_xref x on x.customer_id = c.customer_id
        left join staging.stg_crm__contacts crm
            on x.system = 'crm' and crm.contact_id = x.record_id
        left join staging.stg_shop__customers shop
            on x.system = 'shop' and shop.customer_record_id = x.record_id
        where c.has_marketing_consent
            and (crm.is_email_opted_out or not shop.accepts_marketing)
    """)
    assert consenting_despite_opt_out == [(0,)]
    assert built.query("select count(*) from marts.customers where has_marketing_consent")[0][0]


def test_crm_email_wins_when_the_customer_has_one(built: BuiltWorld) -> None:
    mismatched = built.query("""
        select count(*)
        from marts.customers c
        where c.email__source <> 'crm'
            and exists (
                select 1 from marts.customer_xref x
                join staging.stg_crm__contacts crm on crm.contact_id = x.record_id
                where x.customer_id = c.customer_id and x.system = 'crm'
                    and crm.email is not null and not crm.is_deleted)
    """)
    assert mismatched == [(0,)]


# -- reconciliation -------------------------------------------------------------------------------

@pytest.mark.parametrize("mart", sorted(RECONCILIATIONS))
def test_every_seeded_break_is_found_and_nothing_else(built: BuiltWorld, mart: str) -> None:
    kinds = RECONCILIATIONS[mart]
    seeded = {(k, s, r) for k, s, r, _ in built.breaks if k in kinds}
    found = set(built.query(f"select break_kind, system, record_id from marts.{mart}"))
    assert found - seeded == set()  # no false alarms
    assert seeded - found == set()  # recall 100 %
    if mart == "orders_vs_invoices":
        assert {k for k, _, _ in seeded} == set(kinds)  # the world seeds all three kinds


def test_leavers_report_hours_against_the_four_hour_policy(built: BuiltWorld) -> None:
    rows = built.query("""
        select hours_since_termination, policy_hours, is_policy_breached
        from marts.leavers_with_access
    """)
    assert rows
    assert all(policy == 4 for _, policy, _ in rows)
    assert all(breached == (hours > 4) for hours, _, breached in rows)


def test_seeded_email_conflicts_show_each_systems_value(built: BuiltWorld) -> None:
    seeded = {(r, d.removeprefix("erp=")) for k, _, r, d in built.breaks
              if k == "customer_email_conflict"}
    rows = built.query("""
        select crm.record_id, erp.record_id
        from marts.customer_field_conflicts crm
        join marts.customer_field_conflicts erp
            on crm.customer_id = erp.customer_id and crm.field_name = erp.field_name
        where crm.field_name = 'email' and crm.system = 'crm' and erp.system = 'erp'
            and crm.field_value <> erp.field_value
    """)
    found = set(rows) & seeded
    print(f"seeded e-mail conflicts shown: {len(found)} of {len(seeded)}")
    # a conflict can only show once the CRM and ERP records are matched despite the two
    # addresses (cross-reference, phone, name and address): measured 0.87 on this world
    assert len(found) / len(seeded) >= 0.8


# -- products -------------------------------------------------------------------------------------
def test_product_xref_links_each_product_across_systems(built: BuiltWorld) -> None:
    truth = {(s, o, r): e for s, o, r, e in built.truth
             if (s, o) in {("crm", "products"), ("erp", "items"), ("shop", "products")}}
    linked = {(s, o, r): p for p, s, o, r in built.query(
        "select product_id, system, object, record_id from marts.product_xref")}
    assert linked.keys() == truth.keys()
    entities_of: dict[str, set[str]] = {}
    products_of: dict[str, set[str]] = {}
    for key, product in linked.items():
        entities_of.setdefault(product, set()).add(truth[key])
        products_of.setdefault(truth[key], set()).add(product)
    assert all(len(v) == 1 for v in entities_of.values())  # no two products merged
    assert all(len(v) == 1 for v in products_of.values())  # no product split


def test_erp_codes_that_differ_from_the_shop_sku_are_flagged(built: BuiltWorld) -> None:
    seeded = {r for k, _, r, _ in built.breaks if k == "product_code_mismatch"}
    flagged = {r for (r,) in built.query("""
        select x.record_id from marts.product_xref x
        join marts.products p on p.product_id = x.product_id
        where x.system = 'erp' and p.has_erp_code_mismatch
    """)}
    assert flagged == seeded


# -- sync feeds -----------------------------------------------------------------------------------
def test_crm_feed_pushes_live_person_customers_with_the_strictest_consent(
        built: BuiltWorld) -> None:
    live_people = {c for (c,) in built.query("""
        select customer_id from marts.customers
        where not is_deleted and not is_business_account and (email is not null or is_in_crm)
    """)}
    rows = built.query("""
        select f.sync_key, f.email, f.hs_email_optout, f.crm_record_id, x.customer_id
        from marts.sync_crm__contacts f
        left join marts.customer_xref x
            on x.system = 'crm' and x.record_id = f.crm_record_id and not x.is_deleted
    """)
    assert {key for key, *_ in rows} <= live_people
    assert len(rows) >= 0.95 * len(live_people)  # only e-mail clashes and archived contacts out
    assert all(record is None or owner == key for key, _, _, record, owner in rows)
    opted_out = {c for (c,) in built.query("""
        select distinct x.customer_id from marts.customer_xref x
        join staging.stg_crm__contacts crm on x.system = 'crm' and crm.contact_id = x.record_id
        where crm.is_email_opted_out
    """)}
    flags = {key: flag for key, _, flag, _, _ in rows}
    assert opted_out & flags.keys()
    assert all(flags[key] == "true" for key in opted_out & flags.keys())
    emails = [email for _, email, *_ in rows if email]
    assert len(emails) == len(set(emails))


def test_shop_feed_only_updates_accounts_the_shop_has(built: BuiltWorld) -> None:
    rows = built.query("""
        select f.sync_key, f.shop, f.shop_customer_id, f.accepts_marketing, x.customer_id,
            c.has_marketing_consent
        from marts.sync_shop__customers f
        left join marts.customer_xref x
            on x.system = 'shop' and x.record_id = f.shop || '/' || f.shop_customer_id
        left join marts.customers c on c.customer_id = x.customer_id
    """)
    assert rows
    assert all(key == f"{shop}/{owner}" for key, shop, _, _, owner, _ in rows)
    assert all(accepts == consent for _, _, _, accepts, _, consent in rows)


def test_erp_feed_names_clash_with_no_live_erp_contact(built: BuiltWorld) -> None:
    clashes = built.query("""
        select f.sync_key, f.name
        from marts.sync_erp__contacts f
        join staging.stg_erp__contacts e
            on lower(e.contact_name) = lower(f.name) and not e.is_deleted
        where f.contact_id is null or f.contact_id <> e.contact_id
    """)
    assert clashes == []
    new, existing = built.query("""
        select count(*) filter (where contact_id is null),
            count(*) filter (where contact_id is not null)
        from marts.sync_erp__contacts
    """)[0]
    assert new and existing


def test_deal_invoice_feed_is_exactly_the_won_deals_not_invoiced(built: BuiltWorld) -> None:
    seeded = {r for k, _, r, _ in built.breaks if k == "deal_won_not_invoiced"}
    feed = {key for (key,) in built.query("select sync_key from marts.sync_erp__invoices")}
    assert feed == seeded


# -- a steward's decisions ------------------------------------------------------------------------
def test_the_next_build_honours_a_stewards_overrides(built: BuiltWorld, tmp_path: Path) -> None:
    """force_match joins a pair the matcher left apart; force_split parts an auto-matched pair."""
    apart = built.query("""
        select x1.record_key, x2.record_key
        from marts.customer_xref x1
        join marts.customer_xref x2
            on x1.customer_id <> x2.customer_id and x1.record_key < x2.record_key
        where x1.system = 'crm' and x2.system = 'shop'
        order by 1, 2 limit 1
    """)[0]
    # a customer of exactly two records joined only by Splink: splitting the pair parts it
    together = built.query("""
        select e.linked_record_key, e.record_key
        from intermediate.int_customer_match_edges e
        join marts.customer_xref x on x.record_key = e.record_key
        where e.match_rule = 'probabilistic'
            and (select count(*) from marts.customer_xref y where y.customer_id = x.customer_id) = 2
            and (select count(*) from intermediate.int_customer_match_edges f
                 where e.record_key in (f.record_key, f.linked_record_key)
                    or e.linked_record_key in (f.record_key, f.linked_record_key)) = 1
        order by 1 limit 1
    """)
    assert together, "the world has no pair only Splink joined"
    project = copy_project(tmp_path / "dbt_project")
    (project / "seeds" / "customer_match_overrides.csv").write_text(
        "record_key_a,record_key_b,decision\n"
        f"{apart[0]},{apart[1]},force_match\n"
        f"{together[0][0]},{together[0][1]},force_split\n")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    # everything the steward's seed feeds, with its tests
    result = dbt("build", "--select", "customer_match_overrides+", "--exclude-resource-type",
                 "unit_test", root=tmp_path, warehouse=warehouse, project_dir=project)
    assert result.returncode == 0, result.stdout[-5000:]
    rebuilt = BuiltWorld(warehouse, built.truth, built.breaks, result, {})

    def customers_of(a: str, b: str) -> int:
        return int(rebuilt.query("""
            select count(distinct customer_id) from marts.customer_xref
            where record_key in (?, ?)
        """, [a, b])[0][0])

    assert customers_of(*apart) == 1
    assert customers_of(*together[0]) == 2


# -- semantic layer -------------------------------------------------------------------------------
def test_metricflow_validates_and_revenue_matches_the_orders(
        built: BuiltWorld, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "dbt_project")
    # mf reads <project>/target/semantic_manifest.json: the one the build wrote
    (project / "target").mkdir()
    shutil.copy(built.warehouse.parent / "target" / "semantic_manifest.json", project / "target")
    env = {**os.environ, "GOLDLOOP_TARGET": "duckdb", "GOLDLOOP_WAREHOUSE": str(built.warehouse),
           "DBT_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": str(project), "PWD": str(REPO)}
    mf = str(Path(sys.executable).with_name("mf"))
    validate = subprocess.run([mf, "validate-configs"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
    assert validate.returncode == 0 and "ERRORS: 0" in validate.stdout, validate.stdout[-3000:]
    out = tmp_path / "revenue.csv"
    query = subprocess.run(
        [mf, "query", "--metrics", "revenue", "--group-by", "metric_time__month", "--csv",
         str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert query.returncode == 0, query.stdout[-3000:]
    with out.open() as f:
        answered = {row["metric_time__month"][:7]: Decimal(row["revenue"])
                    for row in csv.DictReader(f)}
    direct = {month: total for month, total in built.query("""
        select strftime(date_trunc('month', ordered_at), '%Y-%m'), sum(total_amount)
        from marts.orders where not is_cancelled group by 1
    """)}
    assert answered == direct
