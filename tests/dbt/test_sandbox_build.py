"""The models on a real (small) sandbox world: one extract + `dbt build` shared by every test.

The world: 500 customers (seed 42) served by the sandbox, extracted by the pipelines into DuckDB,
built by `dbt build` (see world.py). Kept in one module so a parallel run builds it once.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.dbt.world import BuiltWorld, pairwise_scores

CUSTOMER_OBJECTS = {("crm", "contacts"), ("erp", "contacts"), ("shop", "customers")}

# Rules-only matching (no probabilistic step yet) measured on this world: precision 1.000,
# recall 0.975 (2,000 customers, seed 42: 1.000 / 0.970). The thresholds leave a margin.
MIN_PRECISION = 0.995
MIN_RECALL = 0.96

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
    failed = {uid: s for uid, s in statuses.items() if s not in ("success", "pass", "warn")}
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
    precision, recall = pairwise_scores(predicted, truth)
    print(f"customer matching: precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


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
