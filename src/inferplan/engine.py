"""The per-request engine: Ibis over embedded DuckDB (the default) or PySpark (`--engine spark`).

All per-request work (repricing, attribution, demand bucketing, the relational lever steps) is written as
portable Ibis expressions: the same code runs wherever the workload's table lives. Which engine that is, is a
process-wide choice (`use()`, the global `--engine` option or `INFERPLAN_ENGINE`). Readers of the source
formats are DuckDB SQL and produce canonical Parquet (`inferplan convert`); the Spark path starts from it.

Engine-specific fast paths live here, each beside its portable twin (tested against each other):
`epoch_us()` is DuckDB's builtin on DuckDB (integer, no time-zone work) and an Ibis timestamp delta elsewhere.
`Memo` keeps small results (roll-ups) by the expression that made them, so a roll-up made while validating is
not recomputed by pricing: a cache keyed by the exact expression cannot be applied to another table.
`rewrites` keeps, for a table the readers resolved, the table before model resolution: roll-ups group it by
logged id and remap the few groups (`workload.rollup_by`), instead of joining every row; its portable twin is
the plain roll-up of the resolved table, and both are portable Ibis.

DuckDB draws a progress bar on stdout once a query runs past two seconds, which would corrupt `--json`: every
connection we use has it off: ours, Ibis's default backend (where expressions over memtables alone run; a
separate connection, so that one can stream into the other) and DuckDB's module-level default. Progress, where
a command shows any, is drawn by rich on stderr (`cli.working()`).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

from .errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Settings every connection gets: nothing of DuckDB's own may reach stdout.
QUIET: dict[str, bool] = {"enable_progress_bar": False, "enable_progress_bar_print": False}
ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
# Spark settings inferplan needs (UTC so timestamps mean what the canonical UTC column says) and a quiet driver.
SPARK_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

_lock = threading.Lock()
_con: DuckDBBackend | None = None
_engine: str | None = None
_spark_master: str | None = None
_spark: Any = None  # the Ibis PySpark backend, made on first use


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """Turn DuckDB's progress bar off on a raw connection."""
    for name, value in QUIET.items():
        con.execute(f"SET {name} = {str(value).lower()}")


def connection() -> DuckDBBackend:
    """The process-wide DuckDB backend (created on first use, with a quiet Ibis default backend beside it).

    Readers use it for their SQL whatever the engine; on `--engine duckdb` all per-request work runs here too.
    """
    global _con
    with _lock:
        if _con is None:
            _con = ibis.duckdb.connect()
            quiet(_con.con)
            threads = os.environ.get("INFERPLAN_THREADS")
            if threads:
                _con.raw_sql(f"SET threads = {int(threads)}")
            memory = os.environ.get("INFERPLAN_MEMORY_LIMIT")
            if memory:
                _con.raw_sql(f"SET memory_limit = '{memory}'")
            _con.raw_sql("SET preserve_insertion_order = true")
            default = ibis.duckdb.connect()
            quiet(default.con)
            ibis.set_backend(default)
            quiet(duckdb.default_connection())
        return _con


def use(engine: str | None = None, *, spark_master: str | None = None) -> str:
    """Choose the per-request engine for this process (None: `INFERPLAN_ENGINE`, else duckdb); returns it."""
    global _engine, _spark_master
    chosen = (engine or os.environ.get("INFERPLAN_ENGINE") or "duckdb").lower()
    if chosen not in ENGINES:
        raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {chosen!r}")
    _engine = chosen
    if spark_master is not None:
        _spark_master = spark_master
    return chosen


@contextmanager
def using(engine: str, *, spark_master: str | None = None) -> Iterator[str]:
    """Run a block on `engine`, then go back to the engine chosen before."""
    before = _engine
    try:
        yield use(engine, spark_master=spark_master)
    finally:
        globals()["_engine"] = before


def name() -> str:
    """The engine per-request work runs on: `duckdb` or `spark`."""
    return _engine if _engine is not None else use()


def backend() -> ibis.BaseBackend:
    """The Ibis backend of the chosen engine (PySpark's is started on first use)."""
    return spark() if name() == "spark" else connection()


def spark_session(master: str | None = None) -> SparkSession:
    """The active SparkSession, or a new one: `master` (`--spark-master`), else Spark's own configuration
    (`spark.master` from spark-submit or spark-defaults.conf), else local mode on two cores."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("--engine spark needs pyspark (and Java 17): pip install 'inferplan[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("inferplan")
    master = master or os.environ.get("INFERPLAN_SPARK_MASTER")
    if master:
        builder = builder.master(master)
    else:
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized()  # the launcher reads spark-defaults.conf (SPARK_CONF_DIR) and --master
        configured = SparkConf().get("spark.master", None)
        if configured in (None, "local[*]"):  # local[*] is pyspark's own fallback, not a user's choice
            builder = builder.master(DEFAULT_SPARK_MASTER)
    for k, v in SPARK_CONF.items():
        builder = builder.config(k, v)
    if (master or DEFAULT_SPARK_MASTER).startswith("local"):
        # local mode's Python workers run on this machine: this interpreter, which has inferplan (the S3 data
        # source, `readers._s3_spark`, runs there), not whatever `python3` is first on the PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = builder.getOrCreate()
    for k, v in SPARK_CONF.items():  # an existing session (getOrCreate) gets the settings that matter too
        if k.startswith("spark.sql."):
            session.conf.set(k, v)
    return session


def spark(session: SparkSession | None = None) -> ibis.BaseBackend:
    """The Ibis PySpark backend (on `session`, else `spark_session()`), made once per process."""
    global _spark
    with _lock:
        if _spark is None or session is not None:
            if session is None:
                session = spark_session(_spark_master)
            _spark = ibis.pyspark.connect(session)
        return _spark


def read_parquet(paths: Sequence[str]) -> ibis.Table:
    """Canonical Parquet files (local paths, or `s3a://` URLs Spark can reach) as one table on the chosen
    engine. DuckDB's readers have their own SQL (`readers.canonical`); this is the other engines' way in."""
    if name() == "duckdb":
        con = connection()
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        return con.sql(f"SELECT * FROM read_parquet([{files}])")
    return spark_table(spark()._session.read.parquet(*[str(p) for p in paths]))


def spark_table(df: Any) -> ibis.Table:
    """A Spark DataFrame as a table of the Ibis PySpark backend (through a temporary view)."""
    view = f"inferplan_parquet_{next(_views)}"
    df.createOrReplaceTempView(view)
    return spark().table(view)


def to_pyarrow(expr: ibis.Table) -> pa.Table:
    """A table expression's rows as Arrow, whatever engine holds them.

    Fast path on Spark: Spark's own Arrow export (`DataFrame.toArrow`), which keeps map and list columns
    (Ibis's PySpark backend goes through pandas, where a `tags` map comes back as dicts that Arrow cannot cast
    back to a map) and skips pandas; cast to the expression's schema. Portable twin: `expr.to_pyarrow()`.
    """
    be = expr._find_backend(use_default=True)
    if be.name != "pyspark" or not hasattr(be._session.sql("SELECT 1"), "toArrow"):
        return expr.to_pyarrow()
    be._run_pre_execute_hooks(expr)  # registers the expression's memtables with Spark
    out = be._session.sql(be.compile(expr)).toArrow()
    want = expr.schema().to_pyarrow()
    cols = []
    for f in want:
        col = out.column(f.name)
        if col.type != f.type:
            if pa.types.is_timestamp(col.type) and pa.types.is_timestamp(f.type) and col.type.tz is None:
                col = col.cast(pa.timestamp(col.type.unit, tz=f.type.tz))  # Spark exports UTC instants
            col = col.cast(f.type)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=want)


# ---- fast paths, each with its portable twin ------------------------------------------------------------------

_EPOCH = ibis.timestamp("1970-01-01 00:00:00+00:00")
_views = itertools.count()


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's epoch_us on a zoned timestamp: integer microseconds, no time-zone conversion (ICU)."""


def epoch_us_portable(ts: ibis.TimestampValue) -> ibis.IntegerValue:
    """Microseconds since the Unix epoch of a UTC timestamp, in Ibis any backend compiles (a timestamp delta)."""
    return ts.delta(_EPOCH, unit="microsecond")


def epoch_us(ts: ibis.TimestampValue, engine: str | None = None) -> ibis.IntegerValue:
    """Microseconds since the Unix epoch: DuckDB's builtin (about 35x faster than its ICU date_diff) on
    DuckDB, `epoch_us_portable` elsewhere. Integer arithmetic, so day/hour/window numbers are exact."""
    return _duckdb_epoch_us(ts) if (engine or name()) == "duckdb" else epoch_us_portable(ts)


class Memo:
    """A few small results (roll-ups) kept by a hashable key built from Ibis expressions.

    Ibis expressions compare and hash by structure, so a key holds exactly the computation that made the
    value. Bounded (least recently used goes first), since a key keeps its expression's memtables alive.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.enabled = True

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if self.enabled:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
        value = make()
        self.put(key, value)
        return value

    def find(self, key: Hashable) -> Any:
        """The value kept under `key`, or None."""
        if not self.enabled:
            return None
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def remember_file_rows(table: ibis.Table, path: str) -> None:
    """Keep that `table`'s rows are exactly the rows of the local Parquet file `path`, in the file's order (the
    readers know it: one canonical file, every row kept); see `file_rows`. The file's size and modification time
    are kept with it: a file rewritten since is no longer the table's rows."""
    rewrites.put(("file rows", table.op()), (path, _stamp(path)))


def _stamp(path: str) -> tuple[int, int] | None:
    """A local file's size and modification time (None: gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def file_rows(table: ibis.Table) -> str | None:
    """The local Parquet file whose rows `table` is, in order, with its `prefix` column as the file has it,
    when the readers said so (`remember_file_rows`) and the engine is DuckDB; else None.

    Fast path of the lever table (`levers._table`): the `prefix` lists are read from the file by pyarrow and
    hashed by a compiled pass instead of being hashed in and transferred from the engine (the lever table at
    10M requests: 3.9 s against 7.2 s). Portable twin: the lever table's engine query with the prefix (tested
    against each other). The file's order needs the resolution kept beside it (`levers._table.in_file_order`
    maps the ids in place; the join keeps no order): without it, no claim; nor for a file changed on disk since
    it was read (its size or modification time)."""
    found = rewrites.find(("file rows", table.op()))
    if found is None or name() != "duckdb" or rewrites.find(("resolved", table.op())) is None:
        return None
    path, stamp = found
    return path if stamp is not None and _stamp(path) == stamp else None


memo = Memo()  # results: roll-ups by the expression that makes them
rewrites = Memo()  # cheaper equivalent inputs: a resolved table -> the table before resolution (workload.rollup_by)
