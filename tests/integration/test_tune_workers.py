"""Tuning spread over workers: `pricing tune` processes started at the same instant on a fresh shared storage all
finish and add their trials to one study; `pricing train --study` takes its best trial; a study of other data
is refused in one line."""

import json
import shutil
import subprocess
import sys

import optuna
import pandas as pd
import pytest

from pricing.training.tuning import _storage_object

WORKERS, TRIALS = 2, 1  # two processes racing to create one storage: the case a cluster's workers meet


def tune_command(data_dir, storage: str, study: str, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "pricing", "tune", "--data-dir", str(data_dir), "--storage", storage]
    return [*command, "--study", study, "--profile", "quick", *extra]


@pytest.fixture(params=["sqlite", "journal"])
def storage(request, tmp_path) -> str:
    """A fresh storage of each kind the CLI accepts on one machine (no file exists before the workers start)."""
    return f"sqlite:///{tmp_path / 'tuning.db'}" if request.param == "sqlite" else f"journal:{tmp_path / 'tuning.log'}"


def run_workers_at_once(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    done = []
    for command, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def test_workers_started_together_all_finish_into_one_study(small_prepared, storage):
    done = run_workers_at_once(
        [tune_command(small_prepared, storage, "net", "--trials", str(TRIALS)) for _ in range(WORKERS)]
    )
    for worker in done:
        assert worker.returncode == 0, worker.stderr[-2000:]
        assert "Traceback" not in worker.stderr
        assert f"this worker added {TRIALS} trials" in worker.stdout
    study = optuna.load_study(study_name="net", storage=_storage_object(storage))
    assert len(study.trials) == WORKERS * TRIALS  # the study's count is the sum of the workers'
    assert any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials), [t.state for t in study.trials]


def test_train_takes_the_best_trial_of_a_study_and_adds_none(small_prepared, tmp_path):
    """One training for both kinds of storage: what `train --study` reads does not depend on the storage, which
    the workers' test above covers kind by kind (a quick training costs about a minute)."""
    storage = f"journal:{tmp_path / 'tuning.log'}"
    tuned = subprocess.run(
        tune_command(small_prepared, storage, "net", "--trials", "2"), capture_output=True, text=True
    )
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    study = optuna.load_study(study_name="net", storage=_storage_object(storage))
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) > 1, [t.state for t in study.trials]  # a best trial among several
    best = min(finished, key=lambda t: t.value)

    bundle = tmp_path / "bundle"
    train = [sys.executable, "-m", "pricing", "train", "--profile", "quick", "--data-dir", str(small_prepared)]
    outputs = ["--bundle-dir", str(bundle), "--reports-dir", str(tmp_path / "reports")]
    trained = subprocess.run(
        [*train, *outputs, "--storage", storage, "--study", "net"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    network = json.loads((bundle / "manifest.json").read_text())["models"]["network"]
    assert network["tuning"]["reused_study"] is True and network["tuning"]["best_params"] == best.params
    params = network["params"]
    assert params["units"] == [best.params[f"units_{i}"] for i in range(best.params["layers"])]
    for name in ("learning_rate", "dropout", "optimizer", "batch_size", "weight_decay"):
        assert params[name] == best.params[name], name
    assert len(optuna.load_study(study_name="net", storage=_storage_object(storage)).trials) == len(study.trials)


def test_a_study_opened_for_other_data_is_refused_in_one_line(small_prepared, tmp_path):
    storage = f"journal:{tmp_path / 'tuning.log'}"
    first = subprocess.run(
        tune_command(small_prepared, storage, "net", "--trials", "1"), capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr[-2000:]
    other = tmp_path / "other"
    shutil.copytree(small_prepared, other)
    train = pd.read_parquet(other / "train.parquet")
    train.iloc[:-1].to_parquet(other / "train.parquet", index=False)  # one sale fewer: other data
    refused = subprocess.run(tune_command(other, storage, "net", "--trials", "1"), capture_output=True, text=True)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "other data" in refused.stderr
    # another seed picks other tuning rows: refused too; another study name is fine
    reseeded = subprocess.run(
        tune_command(small_prepared, storage, "net", "--trials", "1", "--seed", "5"), capture_output=True, text=True
    )
    assert reseeded.returncode == 1 and "other data" in reseeded.stderr
    assert len(optuna.load_study(study_name="net", storage=_storage_object(storage)).trials) == 1


def test_a_storage_that_cannot_be_opened_is_one_line(small_prepared, tmp_path):
    done = subprocess.run(
        tune_command(small_prepared, f"sqlite:///{tmp_path / 'no-such-folder' / 't.db'}", "net", "--trials", "1"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--storage" in done.stderr
