"""`pricing tune` on PostgreSQL, the storage the README recommends for workers on many machines: a real server
(Debian's package, started by the test on loopback: tests/servers.py), two workers started at once on a fresh
database (the schema race), with `postgresql://` and Heroku's `postgres://` and no driver named (psycopg is the
one installed). Every storage error is one line, a password never printed; bad flags are refused by the parser."""

import subprocess

import optuna
import pytest

from pricing.cli import main
from pricing.training.tuning import StorageError, _lost_a_race, _storage_object, describe_storage, storage_url
from tests.integration.test_tune_workers import run_workers_at_once, tune_command
from tests.servers import postgres_server  # noqa: F401  (fixture)


def test_two_workers_started_together_tune_into_one_postgresql_study(postgres_server, small_prepared):  # noqa: F811
    import psycopg

    database = postgres_server.create_database()  # no schema yet: the workers race to create it
    urls = [postgres_server.url(database), postgres_server.url(database, scheme="postgres")]
    done = run_workers_at_once([tune_command(small_prepared, url, "net", "--trials", "1") for url in urls])
    for worker in done:
        assert worker.returncode == 0, worker.stderr[-2000:]
        assert "Traceback" not in worker.stderr and "this worker added 1 trials" in worker.stdout
        assert postgres_server.PASSWORD not in worker.stdout + worker.stderr
    study = optuna.load_study(study_name="net", storage=_storage_object(urls[0]))
    assert len(study.trials) == 2 and {t.state for t in study.trials} <= {
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
    }
    with psycopg.connect(postgres_server.url(database)) as connection:  # in PostgreSQL itself, not elsewhere
        assert connection.execute("SELECT count(*) FROM trials").fetchone() == (2,)


def test_postgresqls_words_for_a_schema_another_worker_created_are_a_lost_race(postgres_server):  # noqa: F811
    """Which error the loser of the schema race gets depends on timing: a duplicate key of pg_type (an
    IntegrityError; the test above meets it) or `relation ... already exists` (a ProgrammingError), made here."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    engine = create_engine(storage_url(postgres_server.url(postgres_server.create_database())))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE studies (study_id integer)"))
        with pytest.raises(ProgrammingError) as lost, engine.begin() as connection:
            connection.execute(text("CREATE TABLE studies (study_id integer)"))
        assert _lost_a_race(lost.value)
    finally:
        engine.dispose()


def test_a_wrong_password_is_one_line_that_does_not_print_it(postgres_server, small_prepared):  # noqa: F811
    url = postgres_server.url(password="not-the-password")
    done = subprocess.run(
        tune_command(small_prepared, url, "net", "--trials", "1"), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "password authentication failed" in done.stderr
    assert f"--storage postgresql://optuna:***@127.0.0.1:{postgres_server.port}/postgres:" in done.stderr
    assert "not-the-password" not in done.stderr


def test_a_database_without_its_driver_is_one_line_naming_the_package(small_prepared):
    done = subprocess.run(
        tune_command(small_prepared, "mysql://user:pw@127.0.0.1:1/optuna", "net", "--trials", "1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "pricing tune: error: --storage mysql://user:***@127.0.0.1:1/optuna: no database driver for mysql:// "
        "(Python module MySQLdb): install mysqlclient (or write mysql+pymysql://... and install PyMySQL)\n"
    )


@pytest.mark.parametrize(
    ("storage", "driver"),
    [
        ("postgresql://u:p@db.example:5432/optuna", "postgresql+psycopg"),
        ("postgres://u:p@db.example/optuna", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/optuna", "postgresql+psycopg"),
        ("sqlite:///tuning.db", "sqlite"),
    ],
)
def test_a_url_without_a_driver_gets_the_installed_one(storage, driver):
    assert storage_url(storage).drivername == driver


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ("postgresql+psycopg2://u@db.example/optuna", "install psycopg2-binary"),
        ("mysql+pymysql://u@db.example/optuna", "install PyMySQL"),
        ("foo://db.example/optuna", r"^foo:// is no database SQLAlchemy knows"),
    ],
)
def test_a_driver_or_database_that_is_not_there_is_a_storage_error(storage, message):
    with pytest.raises(StorageError, match=message):
        storage_url(storage)


def test_a_journal_in_a_missing_folder_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError, match=r"cannot open the journal file .*: No such file or directory"):
        _storage_object(f"journal:{tmp_path / 'absent' / 'tuning.log'}")


def test_a_password_is_masked_wherever_the_storage_is_named():
    assert describe_storage("postgresql://optuna:s3cret@db:5432/optuna") == "postgresql://optuna:***@db:5432/optuna"
    assert describe_storage("journal:/tmp/t.log") == "journal:/tmp/t.log"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--budget", "-5"], "argument --budget: must be a positive number of seconds, got '-5'"),
        (["--budget", "0"], "argument --budget: must be a positive number of seconds, got '0'"),
        (["--budget", "nan"], "argument --budget: must be a positive number of seconds, got 'nan'"),
        (["--budget", "inf"], "argument --budget: must be a positive number of seconds, got 'inf'"),
        (["--study", ""], "argument --study: must name the study, got an empty name"),
        (["--study", "   "], "argument --study: must name the study, got an empty name"),
        (["--study", "s" * 513], "argument --study: must be at most 512 characters, got 513"),
        (["--storage", ""], "argument --storage: must be journal:PATH or a database URL"),
        (["--storage", "tuning.db"], "argument --storage: must be journal:PATH or a database URL"),
        (["--storage", "journal:"], "argument --storage: journal: needs a file path"),
    ],
)
def test_bad_tune_flags_are_refused_by_the_parser(flags, message, capsys):
    args = {"--storage": "journal:tuning.log", "--study": "net", "--budget": "60"}
    args.update(dict(zip(flags[::2], flags[1::2], strict=True)))
    with pytest.raises(SystemExit) as exited:
        main(["tune", *(part for pair in args.items() for part in pair)])
    assert exited.value.code == 2
    assert f"pricing tune: error: {message}" in capsys.readouterr().err
