"""`emulator serve`: flags, environment, the banner, and clean refusals (exit 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulator.config import DEFAULT_FIXTURES

from .served import serve

XD_DEMO_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
HERE = Path(__file__).parent


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def test_port_zero_picks_a_free_port_prints_it_and_serves_the_printed_keys() -> None:
    with serve() as served:
        port = int(served.url.rsplit(":", 1)[1])
        assert port > 0
        assert XD_DEMO_KEY in served.banner
        assert f"{served.url}/api/v1" in served.banner
        health = httpx.get(f"{served.url}/_emulator/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        balance = httpx.get(
            f"{served.url}/api/v1/balance", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"}
        )
        assert balance.status_code == 200
        assert balance.json() == {"success": True, "data": {"coins": 500.0}}


def test_environment_variables_configure_the_server() -> None:
    env = {"EMULATOR_PORT": "0", "EMULATOR_SEED": "99", "EMULATOR_CLOCK_START": "2030-01-01T00:00:00Z"}
    with serve(env=env) as served:
        assert "seed 99" in served.banner
        health = httpx.get(f"{served.url}/_emulator/health").json()
        assert health["seed"] == 99
        assert health["clock"]["now"].startswith("2030-01-01T00:0")


def test_flags_win_over_environment() -> None:
    with serve("--seed", "5", env={"EMULATOR_SEED": "6"}) as served:
        assert httpx.get(f"{served.url}/_emulator/health").json()["seed"] == 5


def test_python_module_entry_and_console_script_both_exist() -> None:
    assert run_cli("--version").stdout.startswith("emulator ")
    script = shutil.which("emulator", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("emulator ")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["serve", "--port", "eighty"], "port"),
        (["serve", "--port", "70000"], "port"),
        (["serve", "--seed", "-1"], "seed"),
        (["serve", "--clock-start", "yesterday"], "clock start"),
        (["serve", "--log-level", "loud"], "log level"),
        (["serve", "--journal-size", "-1"], "journal size"),
        (["serve", "--no-such-flag"], "--no-such-flag"),
        (["serve", "--fixtures", "/nonexistent/fixtures.json"], "/nonexistent/fixtures.json"),
        (["launch"], "launch"),
    ],
)
def test_a_bad_flag_stops_start_up_with_one_line_and_exit_2(args: list[str], names: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr


def test_a_bad_environment_variable_stops_start_up_like_a_bad_flag() -> None:
    result = run_cli("serve", env={"EMULATOR_PORT": "nope"})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "port" in result.stderr


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda doc: doc["247xd"]["accounts"][0].update(coins="lots"), "247xd.accounts[0].coins"),
        (lambda doc: doc["247xd"]["otpServices"][0].update(id="not-a-uuid"), "247xd.otpServices[0].id"),
        (
            lambda doc: doc["247xd"]["accounts"][0]["keys"][0].update(key="sk_short"),
            "247xd.accounts[0].keys[0].key",
        ),
        (lambda doc: doc.update(surprise={}), "surprise"),
    ],
)
def test_a_malformed_fixtures_file_stops_start_up_naming_the_problem(
    tmp_path: Path, mutate, names: str
) -> None:
    doc = json.loads(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("serve", "--port", "0", "--fixtures", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0], result.stderr


def test_fixtures_that_are_not_json_stop_start_up(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    result = run_cli("serve", "--port", "0", "--fixtures", str(path))
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _first_otp_ids(url: str) -> tuple[str, str]:
    services = httpx.get(
        f"{url}/api/v1/otp/services", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"}
    ).json()["data"]
    return services[0]["id"], services[0]["priceOptions"][0]["id"]


def _fill(source: str, url: str, service_id: str, option_id: str) -> str:
    source = source.replace("247xd_your_api_key_here", XD_DEMO_KEY)
    source = source.replace("https://247xd.com/api/v1", f"{url}/api/v1")
    source = source.replace('"serviceId": "..."', f'"serviceId": "{service_id}"', 1)
    source = source.replace('"priceOptionId": "..."', f'"priceOptionId": "{option_id}"', 1)
    source = source.replace('serviceId: "..."', f'serviceId: "{service_id}"', 1)
    return source.replace('priceOptionId: "..."', f'priceOptionId: "{option_id}"', 1)


def test_the_seed_python_example_runs_against_the_served_emulator(tmp_path: Path) -> None:
    with serve() as served:
        script = tmp_path / "example.py"
        source = (HERE / "seed_examples/example.py").read_text("utf-8")
        script.write_text(_fill(source, served.url, *_first_otp_ids(served.url)), encoding="utf-8")
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "เหรียญ: 500.0" in result.stdout
    assert "สถานะ: waiting_sms" in result.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_seed_nodejs_example_runs_against_the_served_emulator(tmp_path: Path) -> None:
    with serve() as served:
        script = tmp_path / "example.mjs"
        source = (HERE / "seed_examples/example.mjs").read_text("utf-8")
        script.write_text(_fill(source, served.url, *_first_otp_ids(served.url)), encoding="utf-8")
        result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "เหรียญ: 500" in result.stdout
    assert "Order ID: " in result.stdout and "undefined" not in result.stdout


def test_clock_frozen_starts_the_clock_frozen_exactly_at_clock_start() -> None:
    with serve("--clock-start", "2030-01-01T00:00:00Z", "--clock-frozen") as served:
        clock = httpx.get(f"{served.url}/_emulator/clock").json()
        assert clock == {"now": "2030-01-01T00:00:00.000Z", "frozen": True}
        httpx.post(f"{served.url}/_emulator/clock/advance", json={"seconds": 60})
        httpx.post(f"{served.url}/_emulator/reset")
        assert httpx.get(f"{served.url}/_emulator/clock").json() == clock


def test_every_answer_is_dated_by_the_emulator_clock_and_carries_one_date() -> None:
    # SPEC "HTTP details": X-RateLimit-Reset - Date is the true wait, also on a moved clock.
    with serve("--clock-start", "2030-01-01T00:00:00Z", "--clock-frozen") as served:
        httpx.post(f"{served.url}/_emulator/clock/advance", json={"seconds": 90})
        answer = httpx.get(f"{served.url}/api/v1/balance", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"})
        assert answer.headers.get_list("date") == ["Tue, 01 Jan 2030 00:01:30 GMT"]
        assert int(answer.headers["x-ratelimit-reset"]) == 1893456120  # 00:02:00, 30 s after Date
        control = httpx.get(f"{served.url}/_emulator/clock")
        assert control.headers.get_list("date") == ["Tue, 01 Jan 2030 00:01:30 GMT"]


def stderr_after_start(*args: str) -> str:
    with serve(*args) as served:
        served.process.terminate()
        served.process.wait(timeout=10)
        assert served.process.stderr is not None
        return served.process.stderr.read()


def test_a_server_bound_for_other_machines_without_a_token_says_so_once_with_the_command() -> None:
    said = stderr_after_start("--host", "0.0.0.0")
    assert said.count("no token") == 1, said
    assert "--control-token" in said and "secrets.token_urlsafe" in said
    assert "no token" not in stderr_after_start("--host", "0.0.0.0", "--control-token", "t0ken")
    assert "no token" not in stderr_after_start()  # 127.0.0.1



def test_serve_gives_uvicorn_the_app_itself_so_the_api_shortcut_applies() -> None:
    """The protocol's shortcut (emulator/server.py) is for the app uvicorn runs as it is:
    wrapped (proxy headers, trace logging), it would silently not apply."""
    from emulator.app import create_app
    from emulator.cli import uvicorn_config

    app = create_app()
    config = uvicorn_config(app, "info")
    config.load()
    assert config.loaded_app is app
    assert config.http_protocol_class.eager_shortcut == (app, app.api_front())
