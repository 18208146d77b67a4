"""Token calibration per model, and the truncation record, in the store's database.

Tables (migration m003): `token_calibration` holds each model's current `Calibration`;
`token_samples` gets one row per measured turn — the estimate made before the call, Ollama's
`prompt_eval_count`, the window, and whether Ollama truncated the prompt anyway.

For `stats`: `estimate_error_by_model(store)` and `truncation_rate(store, since)`.
Writes go through the store's transaction helper (`SqlStore.transaction`: BEGIN IMMEDIATE,
retried when busy) and are best effort: a read-only store (disk nearly full) skips them with a
log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from utils.context.tokens import Calibration
from utils.store import StoreError, iso

if TYPE_CHECKING:
    from utils.store import SqlConn, SqlStore

log = structlog.get_logger()

RECENT_SAMPLES = 20  # the samples `estimate_error_by_model` averages over


@dataclass(frozen=True)
class Sample:
    """One measured turn."""

    model: str
    raw: int  # the uncalibrated heuristic for the prompt sent
    estimated: int  # the calibrated estimate used when the prompt was planned
    actual: int  # Ollama's prompt_eval_count
    num_ctx: int | None
    session_id: str | None = None
    message_id: int | None = None


def load(store: SqlStore, model: str) -> Calibration:
    """The model's calibration (factor 1.0, no samples, if never measured)."""
    row = store.db.execute(
        "SELECT factor, samples FROM token_calibration WHERE model = ?", [model]
    ).fetchone()
    return Calibration(float(row[0]), int(row[1])) if row else Calibration()


CLOSE_TO_WINDOW = 0.9  # Ollama kept about the whole window: it dropped or cut something
OVER_WINDOW = 1.15  # a calibrated estimate this far over the window cannot be noise
RAW_OVER_WINDOW = 3.5  # the raw heuristic can over-count CJK text about threefold
TRUSTED_SAMPLES = 3  # calibrated turns before the estimate is trusted near the window
HALF_WINDOW_BAND = 0.01  # the middle cut leaves num_ctx/2 tokens, give or take 1% of num_ctx
CLEARLY_LESS = 1.15  # at half the window, an estimate this far above the count means a cut


def looks_truncated(
    estimated: int, actual: int, num_ctx: int | None, *, raw: int | None = None, samples: int = 0
) -> bool:
    """Did Ollama cut the prompt anyway? Its count is the only signal it gives.

    Only Ollama's signatures of a cut count, never a count merely lower than the estimate
    (that is the estimator's error, and calibration corrects it):
    - it counted about the whole window (>= 90%): the prompt overflowed and Ollama kept
      what fits, dropping the oldest messages or the start of the text;
    - the estimate says the prompt was clearly over the window (calibrated over >= 3 turns and
      15% over, or the raw heuristic 3.5x over) and Ollama counted no more than the window;
    - it counted num_ctx/2 (±1% of the window) and clearly less than estimated: even the last
      message did not fit, so the runner cut the middle of the prompt down to half the window.
    """
    if not num_ctx or actual <= 0:
        return False
    if actual >= CLOSE_TO_WINDOW * num_ctx:
        return True
    if samples >= TRUSTED_SAMPLES:
        over = estimated > OVER_WINDOW * num_ctx
    else:
        over = (estimated if raw is None else raw) > RAW_OVER_WINDOW * num_ctx
    if over:
        return True
    half = abs(actual - num_ctx / 2) <= max(2.0, HALF_WINDOW_BAND * num_ctx)
    return half and estimated > CLEARLY_LESS * actual


def record(store: SqlStore, sample: Sample, truncated: bool, at: float) -> Calibration:
    """Store the sample and fold it into the model's factor.

    A truncated prompt was bigger than the window and than Ollama's count: that lower bound
    is folded in only when it says the factor is too low, so one overflow makes the next
    estimate safer.
    """
    current = load(store, sample.model)
    new = current.updated(sample.raw, sample.actual)
    if truncated:
        bound = max(sample.actual, (sample.num_ctx or 0) + 1)
        too_low = bound > current.estimate(sample.raw)
        new = current.updated(sample.raw, bound) if too_low else current
    now = iso(at)

    def write(conn: SqlConn) -> None:
        conn.execute(
            "INSERT INTO token_samples (model, session_id, message_id, estimated, actual, "
            "num_ctx, truncated, created_at) VALUES (?,?,?,?,?,?,?,?)",
            [sample.model, sample.session_id, sample.message_id, sample.estimated,
             sample.actual, sample.num_ctx, int(truncated), now],
        )  # fmt: skip
        conn.execute(
            "INSERT INTO token_calibration (model, factor, samples, updated_at) "
            "VALUES (?,?,?,?) ON CONFLICT (model) DO UPDATE SET factor = excluded.factor, "
            "samples = excluded.samples, updated_at = excluded.updated_at",
            [sample.model, new.factor, new.samples, now],
        )

    try:
        store.transaction(write)
    except StoreError as exc:
        log.warning("calibration_not_saved", model=sample.model, error=str(exc))
        return current
    log.info("tokens_calibrated", model=sample.model, estimated=sample.estimated,
             actual=sample.actual, factor=round(new.factor, 4), truncated=truncated)  # fmt: skip
    return new


def session_was_truncated(store: SqlStore, session_id: str) -> bool:
    """Has a truncation been recorded for this session before (the notice is said once)?"""
    row = store.db.execute(
        "SELECT 1 FROM token_samples WHERE session_id = ? AND truncated = 1 LIMIT 1",
        [session_id],
    ).fetchone()
    return row is not None


def estimate_error_by_model(store: SqlStore) -> dict[str, float]:
    """Mean absolute error of the estimates, in percent of Ollama's count, per model.

    Over each model's last 20 measured turns that were not truncated: how far the estimate
    made before the call (with the calibration of that moment) was from `prompt_eval_count`.
    """
    rows = store.db.execute(
        "SELECT model, avg(abs(estimated - actual) * 100.0 / actual) FROM ("
        "  SELECT model, estimated, actual, row_number() OVER ("
        "    PARTITION BY model ORDER BY id DESC) AS n"
        "  FROM token_samples WHERE truncated = 0 AND actual > 0"
        ") WHERE n <= ? GROUP BY model ORDER BY model",
        [RECENT_SAMPLES],
    ).fetchall()
    return {str(model): round(float(error), 2) for model, error in rows}


def truncation_rate(store: SqlStore, since: float) -> float:
    """Share (0..1) of the measured turns since `since` (epoch seconds) Ollama truncated."""
    row = store.db.execute(
        "SELECT count(*), coalesce(sum(truncated), 0) FROM token_samples WHERE created_at >= ?",
        [iso(since)],
    ).fetchone()
    total, truncated = int(row[0]), int(row[1])
    return truncated / total if total else 0.0
