from pathlib import Path

from factcheck.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_is_generated_from_the_settings():
    from factcheck.settings import env_example

    assert (ROOT / ".env.example").read_text() == env_example(), (
        "run: python -m factcheck.settings > .env.example"
    )


def test_env_example_lists_exactly_the_settings():
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = {line.split("=", 1)[0].lower() for line in lines if line and not line.startswith("#")}
    assert names == set(Settings.model_fields)


def test_engine_auto_picks_llm_only_when_configured(monkeypatch):
    assert Settings().resolved_engine() == "offline"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings().resolved_engine() == "llm"
    monkeypatch.setenv("ENGINE", "offline")
    assert Settings().resolved_engine() == "offline"


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("MAX_CLAIMS=7\nTOP_K=3\n")
    settings = Settings()
    assert (settings.max_claims, settings.top_k) == (7, 3)


def test_copied_env_example_keeps_the_defaults(tmp_path):
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = Settings()
    assert settings.prompts_dir is None and settings.openai_api_key is None
    assert settings.resolved_engine() == "offline"


def test_data_dir_defaults_to_the_user_data_folder_whatever_the_working_folder(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("DATA_DIR")
    (tmp_path / "data").mkdir()  # a ./data of something else: not ours
    (tmp_path / "data" / "readings.csv").write_text("1,2\n")
    assert Settings().data_dir == tmp_path / "user-data" / "factcheck"  # XDG_DATA_HOME (conftest)
    (tmp_path / "data" / "chroma").mkdir()  # a collection made by an earlier version
    assert Settings().data_dir == tmp_path / "data"
    monkeypatch.chdir(tmp_path / "data")
    assert Settings().data_dir == tmp_path / "user-data" / "factcheck"


def test_env_example_leaves_the_machine_dependent_data_dir_empty():
    assert "\nDATA_DIR=\n" in (ROOT / ".env.example").read_text()
