"""The systemd units in deploy/: valid for systemd, confined, and running
commands this code has. Their paths (/srv/portal) are pointed at this
checkout, so systemd finds the programs they start."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy").glob("portal-*"))
SERVICES = [u for u in UNITS if u.suffix == ".service"]
CONFINED = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/portal",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "UMask": "0027",
}


def _settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


pytestmark = pytest.mark.database_independent


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_accepts_the_unit(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is part of systemd: install it to check the units"
    for other in UNITS:  # units refer to each other (timers, OnFailure=)
        text = other.read_text().replace("/srv/portal", str(ROOT))
        (tmp_path / other.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(tmp_path / unit.name)],
        capture_output=True,
        text=True,
        env={"SYSTEMD_LOG_LEVEL": "notice", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("unit", SERVICES, ids=lambda u: u.name)
def test_each_service_runs_confined_as_the_portal_user(unit):
    settings = _settings(unit)
    assert settings["User"] == ["portal"] and settings["Group"] == ["portal"]
    for key, value in CONFINED.items():
        assert settings.get(key) == [value], (unit.name, key)
    assert settings["EnvironmentFile"] == ["/etc/portal/env"]


def test_the_web_server_reloads_and_starts_after_its_services():
    settings = _settings(ROOT / "deploy" / "portal-web.service")
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    after = settings["After"][0].split()
    assert "postgresql.service" in after and "redis-server.service" in after


@pytest.mark.parametrize("job", ["portal-daily.service", "portal-watch.service"])
def test_a_failing_job_tells_the_admins(job):
    assert _settings(ROOT / "deploy" / job)["OnFailure"] == ["portal-alert@%n.service"]
    alert = _settings(ROOT / "deploy" / "portal-alert@.service")
    assert alert["ExecStart"] == ["/srv/portal/.venv/bin/flask --app wsgi alarms unit-failed %i"]


def test_every_command_the_units_run_exists():
    commands = set()
    for unit in SERVICES:
        for line in _settings(unit).get("ExecStart", []):
            found = re.search(r"flask --app wsgi ((?:[a-z][a-z-]* ?)+)", line)
            if found:  # the command's words, up to its first option or argument
                commands.add(tuple(found.group(1).split()))
    assert ("alarms", "check") in commands and ("backup",) in commands
    for words in sorted(commands):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *words, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (words, result.stderr)
