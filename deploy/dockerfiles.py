"""Every service's Dockerfile from one template: `python -m deploy.dockerfiles` writes them, `--check` fails when a
committed one differs from what the template gives (tests/unit/test_dockerfiles.py runs the check).

The six images differ only in the service's name and port and in what a service keeps on disk (screening's prior-
project index and its registry stand-in, the portal's uploads); everything else — the locked, hash-checked
install, the unprivileged user, the readiness health check — is written once, here."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Image:
    service: str
    port: int
    header: tuple[str, ...] = ()  # comment lines under the build line
    copy: tuple[str, ...] = ()  # more of the repository the image carries
    data: tuple[str, ...] = ()  # directories the service writes, owned by its user (volumes in compose)
    data_comment: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # more settings, without the service's prefix
    expose: tuple[int, ...] = ()  # more ports (screening's lookup workers share the image)


IMAGES = (
    Image("intake", 8001, copy=("deploy/bus",), env=(("OUTSIDE_SYSTEMS_PATH", "/app/deploy/bus/systems.json"),)),
    Image("screening", 8002, expose=(8012,),
          header=("One image for the screening service and its four lookup workers (`python -m screening worker "
                  "--registry ...`);", "it also carries the local registry stand-in (deploy/registry) for demos "
                  "without the real registries."),
          copy=("deploy/__init__.py", "deploy/registry"),
          data=("/var/lib/sme/prior-projects", "/var/lib/sme/exports"),
          data_comment=("/var/lib/sme: the national prior-project index (and the registry exports it is built "
                        "from), on a volume that", "the index builder writes and the duplicate-projects workers "
                        "search; owned by sme so a new volume is too.")),
    Image("evaluation", 8003),
    Image("contracts", 8004),
    Image("payments", 8005),
    Image("portal", 8000, data=("/var/lib/sme/portal-uploads",),
          data_comment=("/var/lib/sme/portal-uploads: the files companies and experts upload, on a volume.",),
          env=(("UPLOAD_DIR", "/var/lib/sme/portal-uploads"),)),
)


def dockerfile(image: Image) -> str:
    s, prefix = image.service, image.service.upper()
    env = [("PROGRAMS_PATH", "/app/deploy/programs"), ("HTTP_HOST", "0.0.0.0"), ("HTTP_PORT", str(image.port)),
           *image.env]
    data = (f" \\\n    && mkdir -p {' '.join(image.data)} && chown -R sme {' '.join(image.data)}"
            if image.data else "")
    lines = [
        f"# Build from the repository root: docker build -f services/{s}/Dockerfile .",
        *(f"# {h}" for h in image.header),
        "# Written by `python -m deploy.dockerfiles` from its template: change it there, not here.",
        "FROM python:3.11-slim",
        "WORKDIR /app",
        "COPY requirements.txt requirements.txt",
        "COPY shared/schemas shared/schemas",
        "COPY shared/programs shared/programs",
        "COPY shared/runtime shared/runtime",
        f"COPY services/{s} services/{s}",
        "COPY deploy/programs deploy/programs",
        *(f"COPY {c} {c}" for c in image.copy),
        *(f"# {c}" for c in image.data_comment),
        "# The locked set, each file checked against its hash (requirements.txt, pip-compile --generate-hashes); then",
        "# our packages without resolving anything again: the image runs exactly the versions the tests ran.",
        "RUN pip install --no-cache-dir --require-hashes -r requirements.txt \\",
        "    && pip install --no-cache-dir --no-deps ./shared/schemas ./shared/programs ./shared/runtime \\",
        f"       ./services/{s} && pip check \\",
        f"    && useradd --system sme{data}",
        "ENV " + " \\\n    ".join(f"{prefix}_{k}={v}" for k, v in env) + " \\\n    PYTHONUNBUFFERED=1",
        "USER sme",
        "EXPOSE " + " ".join(str(p) for p in (image.port, *image.expose)),
        "HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD python -c \"import urllib.request,sys; "
        f"urllib.request.urlopen('http://127.0.0.1:{image.port}/readyz', timeout=2)\"",
        f'CMD ["python", "-m", "{s}", "serve"]',
    ]
    return "\n".join(lines) + "\n"


def path_of(image: Image) -> Path:
    return ROOT / "services" / image.service / "Dockerfile"


def stale() -> list[str]:
    """The services whose committed Dockerfile is not the template's."""
    return [i.service for i in IMAGES if not path_of(i).exists() or path_of(i).read_text("utf-8") != dockerfile(i)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a Dockerfile differs from the template")
    args = parser.parse_args()
    if args.check:
        if bad := stale():
            print(f"stale Dockerfiles (run python -m deploy.dockerfiles): {', '.join(bad)}", file=sys.stderr)
            return 1
        return 0
    for image in IMAGES:
        path_of(image).write_text(dockerfile(image), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
