"""Probabilistic customer matching with Splink (DuckDB): one row per scored pair of records.

A Fellegi-Sunter model over int_customer_match_features. The m probabilities (how often the
records of one person agree at each level) are configured below: estimating them by
expectation maximisation fails outright on small or very clean data (a level never seen among
matches gets m = 0, which Splink 5 rejects), and a build must not. The u probabilities (how often
two different people agree by chance) are estimated from the data by random sampling (fixed
seed), names carry term-frequency adjustments (two "Michael Smith" records say less than two
"Mitchell Rodgers"), and the prior (probability that two random records match) is estimated
from the deterministic rules. Pairs scoring at least the candidate threshold are kept (the
decisions on them are int_customer_pairs_decided's), each with `agrees_beyond_names`: whether
the two records agree on anything but their names (e-mail, phone, street address, company). Two
records that only share a name are as often two namesakes as one person, and the more customers
the more namesakes: the decisions ask more of such pairs.

Incremental: a full refresh trains the model (prior and u), scores every blocked pair and keeps
the trained model and a hash of each record's compared fields in two state tables beside this
one (`<this>__model`, `<this>__records`). A later build scores only what changed: the records
whose hash is new or different are scored within themselves and against the unchanged ones with
the kept model (term frequencies from all records), and the pairs of changed or vanished
records are replaced. Pairs of two unchanged records keep their scores. A change to the
comparisons, blocking, prior rules or thresholds (the model's fingerprint) rescores everything.
The hashing, the diff against the kept hashes, the term frequencies and the choice of unchanged
records worth comparing (those sharing a blocking key with a changed one: no other can make a
pair) run in the warehouse's own connection; only the changed records and those neighbours go
to Splink, so a small change costs little however many records there are.

DuckDB only: dbt-postgres runs no Python models (see the README for the Postgres path).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pyarrow as pa

OUTPUT_SCHEMA = pa.schema([
    pa.field("record_key_a", pa.string()),
    pa.field("record_key_b", pa.string()),
    pa.field("match_weight", pa.float64()),
    pa.field("match_probability", pa.float64()),
    pa.field("agrees_beyond_names", pa.bool_()),
])

# The comparisons: per compared field, its levels in order (the first that holds applies) as
# (label, SQL condition on the <column>_l / <column>_r pair, m probability, term-frequency column).
# A level with m None is the null level (nothing to compare: no evidence either way). Address
# fields move together in one comparison: postcode, street and city are one place, and counted
# separately they would vouch three times for neighbours.
Level = tuple[str, str, float | None, str | None]


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({column}_l, {column}_r) >= {threshold}"


def _null(*columns: str) -> str:
    return " or ".join(f"{c}_l is null or {c}_r is null" for c in columns)


def _eq(column: str) -> str:
    return f"{column}_l = {column}_r"


COMPARISONS: dict[str, list[Level]] = {
    "first_name": [
        ("null", _null("first_name_key"), None, None),
        ("exact", _eq("first_name_key"), 0.86, "first_name_key"),
        # Bill and William, Peggy and Margaret: one stands for the other (seed
        # first_name_nicknames); names without a known nickname stand only for themselves
        ("nickname", "contains(first_name_formal_names_l, first_name_formal_names_r)"
         " or contains(first_name_formal_names_r, first_name_formal_names_l)", 0.04, None),
        ("typo", _jw("first_name_key", 0.92), 0.05, None),
        ("initial or short form",
         "starts_with(first_name_key_l, first_name_key_r)"
         " or starts_with(first_name_key_r, first_name_key_l)", 0.03, None),
        ("similar", _jw("first_name_key", 0.85), 0.01, None),
        ("different", "true", 0.01, None),
    ],
    "last_name": [
        ("null", _null("last_name_key"), None, None),
        ("exact", _eq("last_name_key"), 0.92, "last_name_key"),
        ("typo", _jw("last_name_key", 0.92), 0.05, None),
        ("similar", _jw("last_name_key", 0.85), 0.02, None),
        ("different", "true", 0.01, None),
    ],
    "email": [
        ("null", _null("email_key"), None, None),
        ("exact", _eq("email_key"), 0.80, None),
        # a typo in a company's domain; two free-mail providers (gmx.com, me.com) are two
        # addresses, whatever their spelling distance
        ("domain typo", "email_local_l = email_local_r"
         " and levenshtein(email_key_l, email_key_r) <= 2"
         " and not (is_free_email_l and is_free_email_r)", 0.05, None),
        ("different", "true", 0.15, None),
    ],
    "phone": [
        ("null", _null("phone_key"), None, None),
        ("exact", _eq("phone_key"), 0.97, None),
        ("different", "true", 0.03, None),
    ],
    "address": [
        ("null", f"({_null('postcode_key')}) and ({_null('city_key')})", None, None),
        # the same building: neighbours share a postcode and a street, not a house number
        ("same street and postcode", f"{_eq('postcode_key')} and ({_jw('street_key', 0.88)})"
         " and (house_number_l = house_number_r"
         " or house_number_l is null or house_number_r is null)", 0.88, None),
        ("same postcode, street unknown", f"{_eq('postcode_key')} and ({_null('street_key')})",
         0.05, None),
        ("same postcode, other street", _eq("postcode_key"), 0.01, None),
        ("same city", _eq("city_key"), 0.03, None),
        ("different", "true", 0.03, None),
    ],
    "company": [
        ("null", "(company_key_l is null and company_label_l is null)"
         " or (company_key_r is null and company_label_r is null)", None, None),
        # the company of one's e-mail is the CRM company the other is associated with, or the
        # employer an ERP contact's name carries (Ann Lee (Levy Retail Ltd) ~ ann@levyretail.uk)
        ("exact", f"{_eq('company_key')} or company_key_l = crm_company_domain_r"
         " or crm_company_domain_l = company_key_r or company_label_l = company_label_r"
         " or company_label_l = company_domain_label_r"
         " or company_domain_label_l = company_label_r", 0.90, None),
        ("typo", _jw("company_key", 0.9), 0.05, None),
        ("different", "true", 0.05, None),
    ],
    "region": [
        ("null", _null("region_key"), None, None),
        ("exact", _eq("region_key"), 0.99, None),
        ("different", "true", 0.01, None),
    ],
}

# The levels that are agreement on something other than a name.
EVIDENCE_BEYOND_NAMES: dict[str, tuple[str, ...]] = {
    "email": ("exact", "domain typo"),
    "phone": ("exact",),
    "address": ("same street and postcode", "same postcode, street unknown"),
    "company": ("exact", "typo"),
}

# Pairs compared (each key a Splink blocking rule; the blocks must stay small at a million
# customers, where a family name and a first initial are shared by thousands): same family
# name and formal first name (Bill and William Orozco), same family name and the first or the
# last three letters of the first name (one typo leaves one of the two), the same the other way
# round, same e-mail local part and family initial, same phone, same postcode and first or
# family initial.
BLOCKING_KEYS: list[tuple[str, ...]] = [
    ("last_name_key", "first_name_formal_names"),
    ("last_name_key", "substr(first_name_key, 1, 3)"),
    ("last_name_key", "right(first_name_key, 3)"),
    ("first_name_key", "substr(last_name_key, 1, 3)"),
    ("first_name_key", "right(last_name_key, 3)"),
    ("email_local", "substr(last_name_key, 1, 1)"),
    ("phone_key",),
    ("postcode_key", "substr(first_name_key, 1, 1)"),
    ("postcode_key", "substr(last_name_key, 1, 1)"),
]

# Rules that admit (almost) no false match: the prior is estimated from the pairs they find.
PRIOR_RULES: list[tuple[str, ...]] = [("email_key",), ("phone_key", "last_name_key")]
PRIOR_RULES_RECALL = 0.8
MIN_RECORDS = 3
DEFAULT_MEMORY_LIMIT = "30%"
CHUNK_RECORDS = 400_000


def comparisons() -> list[Any]:
    """Splink comparisons built from COMPARISONS."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def level(label: str, sql: str, m: float | None, tf_column: str | None) -> Any:
        created = cll.CustomLevel(sql, label)
        if m is None:
            return created.configure(is_null_level=True)
        if tf_column is not None:
            return created.configure(m_probability=m, tf_adjustment_column=tf_column)
        return created.configure(m_probability=m)

    return [
        cl.CustomComparison(output_column_name=name,
                            comparison_levels=[level(*spec) for spec in levels])
        for name, levels in COMPARISONS.items()
    ]


def gamma_value(levels: list[Level], label: str) -> int:
    """Splink's comparison vector value of the level ``label`` (null -1, the last level 0).

    >>> gamma_value(COMPARISONS["phone"], "exact"), gamma_value(COMPARISONS["phone"], "null")
    (1, -1)
    """
    graded = [level[0] for level in levels if level[2] is not None]
    if label not in graded:
        return -1
    return len(graded) - 1 - graded.index(label)


def agrees_beyond_names_sql() -> str:
    """SQL on Splink's gamma_<comparison> columns: the pair agrees on more than names.

    >>> agrees_beyond_names_sql().startswith("gamma_email in (2, 1)")
    True
    """
    def values(name: str, labels: tuple[str, ...]) -> str:
        return ", ".join(str(gamma_value(COMPARISONS[name], label)) for label in labels)

    return " or ".join(f"gamma_{name} in ({values(name, labels)})"
                       for name, labels in EVIDENCE_BEYOND_NAMES.items())


# the leading number of the street line (12a maple st): compared, not hashed (it is derived)
HOUSE_NUMBER_SQL = "nullif(regexp_extract(street_key, '^[0-9]+[a-z]?'), '') as house_number"


def with_house_numbers(features: pa.Table) -> pa.Table:
    """``features`` with ``house_number``."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("features", features)
        return con.sql(f"select *, {HOUSE_NUMBER_SQL} from features").to_arrow_table()
    finally:
        con.close()


def fingerprint(candidate_threshold: float, seed: int) -> str:
    """What the scores depend on besides the records: a changed one rescores every pair.

    >>> fingerprint(0.02, 42) == fingerprint(0.02, 42) != fingerprint(0.05, 42)
    True
    """
    import duckdb

    # the records' hashes are DuckDB's: another DuckDB may hash otherwise
    spec = [COMPARISONS, EVIDENCE_BEYOND_NAMES, BLOCKING_KEYS, PRIOR_RULES, PRIOR_RULES_RECALL,
            candidate_threshold, seed, f"hash(row) duckdb {duckdb.__version__}"]
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def hash_sql(columns: list[str], table: str) -> str:
    """SQL: ``record_key`` and ``features_hash`` (DuckDB's 64-bit hash of the row of every other
    column; a null field hashes unlike any value) of ``table``.

    >>> hash_sql(["record_key", "x", "y"], "f")
    'select record_key, hash(row(x, y)) as features_hash from f'
    """
    fields = [name for name in columns if name != "record_key"]
    return f"select record_key, hash(row({', '.join(fields)})) as features_hash from {table}"


def record_hashes(features: pa.Table) -> pa.Table:
    """``record_key`` and ``features_hash``: a digest of every field a record is compared on.

    >>> table = pa.table({"record_key": ["a", "b"], "x": ["1", None]})
    >>> hashes = record_hashes(table).to_pydict()
    >>> sorted(hashes["record_key"]), len(set(hashes["features_hash"]))
    (['a', 'b'], 2)
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.register("features", features)
        return con.sql(hash_sql(features.column_names, "features")).to_arrow_table()
    finally:
        con.close()


def neighbours_sql(changed: str, records: str) -> str:
    """SQL: the keys of ``records`` that share a blocking key with a ``changed`` one (the changed
    records among them too: the caller leaves them out once, not in each of the scans).

    Splink pairs two records only where a blocking rule's expressions are equal on both (a null
    equals nothing), so no other record can make a pair with a changed one.

    >>> sql = neighbours_sql("c", "u")
    >>> sql.count("semi join") == len(BLOCKING_KEYS), sql.splitlines()[-1]
    (True, 'select u.record_key from (select record_key, postcode_key as k0, \
substr(last_name_key, 1, 1) as k1 from u) as u semi join (select postcode_key as k0, \
substr(last_name_key, 1, 1) as k1 from c) as c on u.k0 = c.k0 and u.k1 = c.k1')
    """
    def keyed(keys: tuple[str, ...]) -> str:
        return ", ".join(f"{key} as k{i}" for i, key in enumerate(keys))

    return "\nunion\n".join(
        f"select u.record_key from (select record_key, {keyed(keys)} from {records}) as u"
        f" semi join (select {keyed(keys)} from {changed}) as c on "
        + " and ".join(f"u.k{i} = c.k{i}" for i in range(len(keys)))
        for keys in BLOCKING_KEYS)


def tf_columns() -> list[str]:
    """The columns whose values carry term-frequency adjustments.

    >>> tf_columns()
    ['first_name_key', 'last_name_key']
    """
    return [tf for levels in COMPARISONS.values() for _, _, _, tf in levels if tf is not None]


def tf_sql(column: str, table: str) -> str:
    """SQL: each value's share of the non-null values of ``column``, as Splink computes it."""
    return (f"select {column}, cast(count(*) as double)"
            f" / (select count({column}) from {table}) as tf_{column}"
            f" from {table} where {column} is not null group by {column}")


def settings(records: int) -> Any:
    """The Splink settings (dedupe, the comparisons and blocking rules above)."""
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=comparisons(),
        retain_intermediate_calculation_columns=True,
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in BLOCKING_KEYS],
        probability_two_random_records_match=1 / max(records, 1),
    )


def trained_linker(records: Any, count: int, seed: int) -> Any:
    """A linker on ``records``: prior from the rules, u by random sampling (fixed seed)."""
    from splink import Linker, block_on
    from splink.internals.exceptions import SplinkException

    linker = Linker(records, settings(count))
    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*keys) for keys in PRIOR_RULES], recall=PRIOR_RULES_RECALL)
    except (ValueError, SplinkException):
        # no pair the rules match (a tiny or empty warehouse): keep the 1 / records prior
        logging.getLogger(__name__).warning("prior not estimated: kept 1 / records")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    return linker


def pairs_table(db_api: Any, predictions: list[Any]) -> pa.Table:
    """Splink's predictions as OUTPUT_SCHEMA rows, one per pair (a < b), best first."""
    if not predictions:
        return OUTPUT_SCHEMA.empty_table()
    unioned = " union all ".join(
        f"select record_key_l, record_key_r, match_weight, match_probability,"
        f" coalesce({agrees_beyond_names_sql()}, false) as agrees_beyond_names"
        f" from {prediction.physical_name}" for prediction in predictions)
    table = db_api.duckdb_con.sql(f"""
        select
            least(record_key_l, record_key_r) as record_key_a,
            greatest(record_key_l, record_key_r) as record_key_b,
            cast(match_weight as double) as match_weight,
            cast(match_probability as double) as match_probability,
            agrees_beyond_names
        from ({unioned})
        order by match_probability desc, record_key_a, record_key_b
    """).to_arrow_table()
    return table.cast(OUTPUT_SCHEMA)


def splink_api(memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Any:
    """Splink's own in-process DuckDB, held to ``memory_limit`` (dbt's connection shares the
    process) and spilling to the temporary folder beyond it."""
    import tempfile

    import duckdb
    from splink.backends.duckdb import DuckDBAPI

    return DuckDBAPI(duckdb.connect(config={
        "memory_limit": memory_limit, "temp_directory": tempfile.gettempdir()}))


def chunk_count(records: int) -> int:
    """Splink predicts in chunks² slices (each side's records split in ``chunks``), so the
    blocked pairs of a million customers are never held at once.

    >>> chunk_count(200_000), chunk_count(2_000_000)
    (1, 5)
    """
    return max(1, -(-records // CHUNK_RECORDS))


def score_pairs(features: pa.Table, candidate_threshold: float, seed: int) -> pa.Table:
    """Pairs of ``features`` records scoring at least ``candidate_threshold``, best first."""
    return score_all(features, candidate_threshold, seed)[0]


def score_all(features: pa.Table, candidate_threshold: float, seed: int,
              memory_limit: str = DEFAULT_MEMORY_LIMIT) -> tuple[pa.Table, str | None]:
    """Every pair scoring at least ``candidate_threshold``, and the trained model (JSON)."""
    if features.num_rows < MIN_RECORDS:
        return OUTPUT_SCHEMA.empty_table(), None

    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = splink_api(memory_limit)
    linker = trained_linker(db_api.register(with_house_numbers(features)), features.num_rows,
                            seed)
    chunks = chunk_count(features.num_rows)
    predictions = linker.inference.predict(
        threshold_match_probability=candidate_threshold,
        num_chunks_left=chunks if chunks > 1 else None,
        num_chunks_right=chunks if chunks > 1 else None)
    model_json = json.dumps(linker.misc.save_model_to_json())
    return pairs_table(db_api, [predictions]), model_json


def score_changed(changed: pa.Table, neighbours: pa.Table, term_frequencies: dict[str, pa.Table],
                  model_json: str, candidate_threshold: float,
                  memory_limit: str = DEFAULT_MEMORY_LIMIT) -> pa.Table:
    """The pairs with at least one ``changed`` record, scored with the kept model: the changed
    records within themselves and against their unchanged ``neighbours``.

    The records carry ``house_number``; ``term_frequencies`` (column -> Splink's tf table) are
    those of every record, as in a full scoring.
    """
    from splink import Linker

    if not changed.num_rows:
        return OUTPUT_SCHEMA.empty_table()
    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = splink_api(memory_limit)
    changed_df = db_api.register(changed, table_name="__goldloop_changed_records")
    linker = Linker(changed_df, json.loads(model_json))
    for column, table in term_frequencies.items():
        linker.table_management.register_term_frequency_lookup(
            db_api.register(table, table_name=f"__goldloop_tf_{column}"), column)
    predictions = [linker.inference.predict_within(
        changed_df, threshold_match_probability=candidate_threshold, warning_mode="never")]
    if neighbours.num_rows:
        neighbours_df = db_api.register(neighbours, table_name="__goldloop_neighbour_records")
        predictions.append(linker.inference.predict_between(
            changed_df, neighbours_df, threshold_match_probability=candidate_threshold,
            warning_mode="never"))
    return pairs_table(db_api, predictions)


def state_names(this: Any) -> tuple[str, str]:
    """The two state tables beside the model: the kept model and the records' hashes."""
    prefix = f'"{this.database}"."{this.schema}"."{this.identifier}'
    return f'{prefix}__model"', f'{prefix}__records"'


def log_name(this: Any) -> str:
    """The log beside the model of the records whose pairs each scoring replaced."""
    return f'"{this.database}"."{this.schema}"."{this.identifier}__rescored"'


def log_rescored(session: Any, this: Any, keys_sql: str | None, keep_days: int) -> None:
    """Log the records whose pairs this scoring replaced or dropped (``keys_sql``, a query of
    record keys), or a row without a record when it scored every pair (None), with the time;
    rows older than ``keep_days`` go, a row without a record left at the horizon (a reader that
    consumed less than that decides every pair again: int_customer_pairs_decided)."""
    log = log_name(this)
    session.execute(f"create table if not exists {log}"
                    " (record_key varchar, scored_at timestamp)")
    if keys_sql is None:
        session.execute(f"insert into {log} values (null, now()::timestamp)")
    else:
        session.execute(f"insert into {log} select record_key, now()::timestamp from ({keys_sql})")
    horizon = f"now()::timestamp - interval '{int(keep_days)} days'"
    session.execute(f"insert into {log} select null, {horizon}"
                    f" where exists (select 1 from {log} where scored_at < {horizon})")
    session.execute(f"delete from {log} where scored_at < {horizon}")


def kept_state(session: Any, this: Any, current: str) -> str | None:
    """The model kept by the last scoring, if it was trained under the ``current`` fingerprint."""
    import duckdb

    model_table, records_table = state_names(this)
    try:
        rows = session.execute(f"select fingerprint, model_json from {model_table}").fetchall()
        session.execute(f"select count(*) from {records_table}").fetchall()
    except duckdb.CatalogException:  # no state yet (the first build since the upgrade)
        return None
    return rows[0][1] if rows and rows[0][0] == current else None


def keep_state(session: Any, this: Any, current: str, model_json: str | None,
               hashes: pa.Table) -> None:
    """Replace the state tables with this scoring's model and record hashes."""
    model_table, records_table = state_names(this)
    session.register("__goldloop_hashes", hashes)
    session.execute(f"create or replace table {records_table} as"
                    " select * from __goldloop_hashes")
    session.execute(f"create or replace table {model_table}"
                    " (fingerprint varchar, model_json varchar)")
    if model_json is not None:
        session.execute(f"insert into {model_table} values (?, ?)", [current, model_json])
    session.unregister("__goldloop_hashes")


def stage_changes(session: Any, this: Any, features: Any) -> None:
    """This build's changes, in the warehouse's connection.

    ``__goldloop_features``: a view of every record (with ``house_number``: computed only for
    the records read whole, the changed ones and their neighbours); ``__goldloop_stale``: the
    keys whose hash is new or different (``is_changed``, with the new hash) and those scored
    last time that are gone.
    """
    _, records_table = state_names(this)
    session.execute("create or replace temp view __goldloop_features as"
                    f" select *, {HOUSE_NUMBER_SQL} from ({features.sql_query()})")
    session.execute(f"""
        create or replace temp table __goldloop_stale as
        with hashes as ({hash_sql(features.columns, "__goldloop_features")})
        select now.record_key, true as is_changed, now.features_hash
        from hashes as now
        left join {records_table} as kept on now.record_key = kept.record_key
        where kept.features_hash is distinct from now.features_hash
        union all
        select kept.record_key, false as is_changed, null
        from {records_table} as kept
        anti join hashes as now on kept.record_key = now.record_key
    """)


def apply_changes(session: Any, this: Any) -> None:
    """Drop the pairs of the stale records and keep their new hashes (none for a gone one)."""
    _, records_table = state_names(this)
    session.execute(f"""
        delete from {this}
        where record_key_a in (select record_key from __goldloop_stale)
            or record_key_b in (select record_key from __goldloop_stale)
    """)
    session.execute(f"delete from {records_table}"
                    " where record_key in (select record_key from __goldloop_stale)")
    session.execute(f"insert into {records_table} select record_key, features_hash"
                    " from __goldloop_stale where is_changed")


def changed_inputs(session: Any) -> tuple[pa.Table, pa.Table, dict[str, pa.Table]]:
    """The changed records, their unchanged neighbours and every record's term frequencies."""
    session.execute("""
        create or replace temp table __goldloop_changed as
        select * from __goldloop_features
        where record_key in (select record_key from __goldloop_stale where is_changed)
    """)
    neighbours = session.sql(f"""
        select * from __goldloop_features
        where record_key in ({neighbours_sql("__goldloop_changed", "__goldloop_features")})
            and record_key not in (select record_key from __goldloop_stale)
    """).to_arrow_table()
    changed = session.sql("select * from __goldloop_changed").to_arrow_table()
    term_frequencies = {column: session.sql(tf_sql(column, "__goldloop_features")).to_arrow_table()
                        for column in tf_columns()}
    return changed, neighbours, term_frequencies


def drop_staged(session: Any) -> None:
    """Drop this build's temporary tables and views (the connection outlives the model)."""
    session.execute("drop view if exists __goldloop_features")
    for table in ("__goldloop_changed", "__goldloop_stale"):
        session.execute(f"drop table if exists {table}")


def model(dbt: Any, session: Any) -> pa.Table:
    dbt.config(materialized="incremental", incremental_strategy="append")
    features = dbt.ref("int_customer_match_features")
    candidate_threshold = float(dbt.config.get("candidate_threshold"))
    seed = int(dbt.config.get("sampling_seed"))
    memory_limit = str(dbt.config.get("memory_limit") or DEFAULT_MEMORY_LIMIT)
    keep_days = int(dbt.config.get("change_log_days"))
    current = fingerprint(candidate_threshold, seed)
    model_json = kept_state(session, dbt.this, current) if dbt.is_incremental else None
    if model_json is None:
        if dbt.is_incremental:  # no kept model, or another fingerprint: rescore everything
            session.execute(f"delete from {dbt.this}")
        records = features.to_arrow_table()
        pairs, trained = score_all(records, candidate_threshold, seed, memory_limit)
        keep_state(session, dbt.this, current, trained, record_hashes(records))
        log_rescored(session, dbt.this, None, keep_days)
        return pairs
    try:
        stage_changes(session, dbt.this, features)
        changed, neighbours, term_frequencies = changed_inputs(session)
        # the stale records and their partners in the pairs about to go
        log_rescored(session, dbt.this, f"""
            select record_key from __goldloop_stale
            union
            select record_key_b from {dbt.this}
            where record_key_a in (select record_key from __goldloop_stale)
            union
            select record_key_a from {dbt.this}
            where record_key_b in (select record_key from __goldloop_stale)""", keep_days)
        apply_changes(session, dbt.this)
    finally:
        drop_staged(session)
    return score_changed(changed, neighbours, term_frequencies, model_json,
                         candidate_threshold, memory_limit)
