"""One Dockerfile (deploy/Dockerfile) builds every service's image, given the service and its port: what compose
builds from it, and what the file must do with them, checked here (no Docker engine runs on this machine)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE = (ROOT / "deploy/Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
BUILT = {name: spec["build"] for name, spec in COMPOSE["services"].items() if "build" in spec}


def test_every_service_is_built_from_the_one_dockerfile_with_its_name_and_port():
    assert BUILT and {b["dockerfile"] for b in BUILT.values()} == {"deploy/Dockerfile"}
    assert {b["context"] for b in BUILT.values()} == {"."}
    assert {b["args"]["SERVICE"] for b in BUILT.values()} == set(SERVICES)
    for name in SERVICES:
        assert BUILT[name]["args"]["PORT"] == str(COMPOSE["services"][name]["environment"][f"{name.upper()}_HTTP_PORT"])


def test_the_build_needs_both_arguments_before_it_uses_them():
    declared = IMAGE.index("ARG SERVICE"), IMAGE.index("ARG PORT")
    first_use = min(IMAGE.index("${SERVICE}"), IMAGE.index("$SERVICE"), IMAGE.index("${PORT}"))
    assert max(declared) < first_use
    assert 'test -n "$SERVICE" && test -n "$PORT"' in IMAGE  # a build without them stops, not an empty image


@pytest.mark.parametrize("service", SERVICES)
def test_what_the_image_copies_exists_for_each_service(service):
    sources = re.findall(r"^COPY (\S+) \S+$", IMAGE, re.M)
    assert sources
    for source in sources:
        assert (ROOT / source.replace("${SERVICE}", service)).exists(), source


def test_the_image_installs_runs_and_probes_the_service_it_was_built_for():
    assert 'pip install --no-cache-dir --no-deps ./shared/schemas ./shared/programs ./shared/runtime ' \
           '"./services/$SERVICE"' in IMAGE
    assert re.search(r"^ENV SERVICE=\$\{SERVICE\} \\\n\s+PORT=\$\{PORT\}", IMAGE, re.M)
    assert "EXPOSE ${PORT}" in IMAGE and "USER sme" in IMAGE
    assert "'http://127.0.0.1:' + os.environ['PORT'] + '/readyz'" in IMAGE
    assert IMAGE.rstrip().endswith('CMD ["sh", "-c", "exec python -m \\"$SERVICE\\" serve"]')
    for service in SERVICES:  # `python -m <service> serve` is each service's entry point
        assert (ROOT / "services" / service / service / "__main__.py").exists()


def test_every_volume_under_var_lib_sme_is_made_for_the_services_user():
    mounted = {volume.split(":")[1] for spec in COMPOSE["services"].values() for volume in spec.get("volumes", [])
               if isinstance(volume, str) and ":/var/lib/sme/" in volume}
    assert mounted == {"/var/lib/sme/prior-projects", "/var/lib/sme/exports", "/var/lib/sme/portal-uploads"}
    made = re.search(r"mkdir -p ([^\n&]+)", IMAGE)
    assert made and mounted <= set(made.group(1).split()) and "chown -R sme /var/lib/sme" in IMAGE
