"""Read MLflow runs (a local `mlruns/` file store, or any tracking URI) through MLflow's client.

MLflow is an optional extra (`pip install 'gsmreport[mlflow]'`): it is imported only here and
only when an MLflow source is read, and its absence is one error line naming the extra.

HF's `report_to="mlflow"` logs the same keys as trainer_state.json (`loss`, `eval_loss`,
`learning_rate`, `epoch`, `train_runtime` ...) with the optimizer step as MLflow's step, so the
rows go through the same `rows_from_log` as every other source. Every point of every metric's
history is kept (the run's `data.metrics` holds only the latest value of each).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import unquote, urlparse

from gsmreport.ingest.files import SourceError
from gsmreport.ingest.schema import checked_frame, rows_from_log
from gsmreport.ingest.source import SourceData, iso_time

SOURCE: Final = "mlflow"
MISSING: Final = "MLflow is not installed: run `pip install 'gsmreport[mlflow]'` to import from it"
_EPOCH_KEYS = frozenset({"epoch", "train/epoch"})
_MODEL_KEYS = ("model", "model_name_or_path", "model_name", "_name_or_path", "base_model")
_MAX_ARTIFACTS = 200  # a checkpoint folder can hold thousands of files: list the first ones
_STATUS: dict[str, Literal["completed", "interrupted", "failed"]] = {
    "FINISHED": "completed",
    "FAILED": "failed",
    "KILLED": "interrupted",
}


@dataclass(frozen=True)
class MlflowRef:
    """One MLflow run: plain strings, so it can cross to an import worker."""

    uri: str
    run_id: str
    name: str


def file_store_uri(folder: Path) -> str:
    return folder.resolve().as_uri()


def store_path(uri: str) -> Path:
    """The folder or database file behind a local URI; the URI itself for a server."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme.startswith("sqlite"):
        return Path(uri.split(":///", 1)[-1])
    return Path(uri)


def is_file_store(folder: Path, subfolders: Iterable[str] | None = None) -> bool:
    """An `mlruns/` folder: experiment folders whose meta.yaml names an artifact location.
    `subfolders`: the names of its folders, when the caller has listed it already."""
    try:
        metas = (
            folder.glob("*/meta.yaml")
            if subfolders is None
            else (folder / name / "meta.yaml" for name in subfolders)
        )
        return any(
            "artifact_location:" in meta.read_text(errors="replace")
            for meta in metas
            if meta.is_file()
        )
    except OSError:
        return False


def _client(uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise SourceError(MISSING) from exc
    if uri.startswith("file:"):
        # MLflow 3 refuses its file store unless opted in; reading an existing mlruns/ folder
        # is exactly the case the opt-out is for, and nothing here writes to it.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def _all_runs(client: Any, experiment_ids: list[str]) -> list[Any]:
    """Every page of the search: one call returns at most 1,000 runs, a sweep can hold more."""
    runs: list[Any] = []
    token: str | None = None
    while True:
        page = client.search_runs(
            experiment_ids, order_by=["attributes.start_time ASC"], page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def list_runs(uri: str, experiment: str | None = None) -> list[MlflowRef]:
    """The runs at `uri`, oldest first; only those of `experiment` (a name) when given."""
    if uri.startswith("sqlite:") and not store_path(uri).is_file():
        # MLflow would create an empty database there and find no runs in it.
        raise SourceError(f"{uri}: no such MLflow database file ({store_path(uri)})")
    client = _client(uri)
    from mlflow.exceptions import MlflowException  # only once _client has found mlflow

    try:
        if experiment is not None:
            found = client.get_experiment_by_name(experiment)
            if found is None:
                names = sorted(e.name for e in client.search_experiments())
                raise SourceError(
                    f"{uri}: no MLflow experiment named {experiment!r} "
                    f"(there are: {', '.join(names) or 'none'})"
                )
            ids = [found.experiment_id]
        else:
            ids = [e.experiment_id for e in client.search_experiments()]
        runs = _all_runs(client, ids) if ids else []
    except MlflowException as exc:
        raise SourceError(f"{uri}: MLflow cannot read it ({_first_line(exc)})") from exc
    return [MlflowRef(uri, r.info.run_id, r.info.run_name or r.info.run_id[:8]) for r in runs]


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _rows(client: Any, run: Any) -> list[dict[str, Any]]:
    """Every logged point of every metric; wall time from the run's start."""
    start = run.info.start_time or 0
    history = {key: client.get_metric_history(run.info.run_id, key) for key in run.data.metrics}
    epochs = {m.step: m.value for key in _EPOCH_KEYS for m in history.get(key, [])}
    points = sorted(
        ((m.timestamp, m.step, key, m.value) for key, ms in history.items() for m in ms),
        key=lambda p: (p[0], p[1]),
    )
    rows: list[dict[str, Any]] = []
    for timestamp, step, key, value in points:
        rows.extend(
            rows_from_log(
                {key: float(value)},
                run_id="",
                source=SOURCE,
                step=step,
                epoch=epochs.get(step),
                wall_time=(timestamp - start) / 1000.0,
            )
        )
    return rows


def _artifacts(client: Any, run_id: str, path: str | None = None) -> list[str]:
    out: list[str] = []
    for item in client.list_artifacts(run_id, path):
        if len(out) >= _MAX_ARTIFACTS:
            break
        out.extend(_artifacts(client, run_id, item.path) if item.is_dir else [item.path])
    return out[:_MAX_ARTIFACTS]


def read(ref: MlflowRef) -> SourceData:
    """One run: metrics with steps and timestamps, params as config, tags, artifacts listed."""
    client = _client(ref.uri)
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(ref.run_id)
        rows = _rows(client, run)
        artifacts = _artifacts(client, ref.run_id)
    except MlflowException as exc:
        raise SourceError(f"{ref.uri}: run {ref.run_id}: {_first_line(exc)}") from exc
    params = dict(run.data.params)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    warnings: list[str] = []
    status = _STATUS.get(run.info.status)
    if status is None:
        warnings.append(f"run {ref.run_id} is still marked {run.info.status} in MLflow")
        status = "interrupted"
    end, start = run.info.end_time, run.info.start_time
    # HF logs train_runtime at the end of training; the run's own span includes set-up.
    runtime = next((r["value"] for r in reversed(rows) if r["metric"] == "runtime_s"), None)
    if runtime is None and end and start:
        runtime = (end - start) / 1000.0
    return SourceData(
        kind=SOURCE,
        path=store_path(ref.uri),
        frame=checked_frame(rows, f"{ref.uri} run {ref.run_id}"),
        warnings=warnings,
        config={
            "params": params,
            "tags": tags,
            "artifacts": artifacts,
            "mlflow": {"tracking_uri": ref.uri, "run_id": ref.run_id},
        },
        model=next((found for k in _MODEL_KEYS if (found := tags.get(k) or params.get(k))), None),
        method=tags.get("method") or params.get("method"),
        status=status,
        runtime_s=runtime,
        started_at=iso_time(start / 1000.0) if start else None,
        finished_at=iso_time(end / 1000.0) if end else None,
        name=run.info.run_name,
    )
