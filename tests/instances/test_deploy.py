"""The deployment files describe what the README says: two instances on one PostgreSQL, each
with a health check, secrets as files."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_two_instances_on_one_postgres_with_health_checks():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    bots = {name: spec for name, spec in services.items() if name.startswith("coordbot")}
    assert len(bots) >= 2 and "postgres" in services
    for spec in bots.values():
        assert spec["healthcheck"]["test"] == ["CMD", "coordbot", "health"]
        assert spec["environment"]["COORDBOT_DATABASE_URL_FILE"].startswith("/run/secrets/")
        assert "postgres" in spec["depends_on"]
        assert not any("TOKEN=" in str(value) for value in spec["environment"].values())


def test_systemd_unit_runs_the_bot_as_its_own_user():
    unit = (ROOT / "deploy" / "coordbot.service").read_text()
    assert "ExecStart=/opt/coordbot/.venv/bin/coordbot run" in unit
    assert "User=coordbot" in unit and "Restart=on-failure" in unit
