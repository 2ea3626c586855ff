"""Every service's Dockerfile is the one template's (deploy/dockerfiles.py): a hand edit to one image, or a service
without an image, fails here. What the images must do (the locked install, the ports compose uses) is checked in
test_locked_builds.py and test_compose.py."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from deploy import dockerfiles

ROOT = Path(__file__).resolve().parents[2]


def test_each_committed_dockerfile_is_what_the_template_writes():
    assert dockerfiles.stale() == [], "run: .venv/bin/python -m deploy.dockerfiles"


def test_every_service_has_an_image_from_the_template():
    services = {p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")}
    assert {i.service for i in dockerfiles.IMAGES} == services


def test_an_image_that_differs_from_the_template_is_found():
    intake = next(i for i in dockerfiles.IMAGES if i.service == "intake")
    committed = dockerfiles.path_of(intake).read_text("utf-8")
    assert dockerfiles.dockerfile(replace(intake, port=9001)) != committed
    assert "EXPOSE 8001" in committed and "INTAKE_HTTP_PORT=8001" in committed
