"""The compose file and the Kubernetes manifests describe the whole system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"enrollment": 8001, "studio": 8002, "hours": 8003, "notify": 8004, "baseline": 8005}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = loaded["services"]
    return services


def test_every_service_runs_api_and_worker_with_a_healthcheck() -> None:
    services = compose()
    for name, port in SERVICES.items():
        api, worker = services[f"{name}-api"], services[f"{name}-worker"]
        assert api["command"] == ["api", name] and worker["command"] == ["worker", name]
        assert f"{port}:{port}" in api["ports"]
        assert api["environment"]["HTTP_PORT"] == str(port)
        assert f"localhost:{port}/readyz" in " ".join(api["healthcheck"]["test"])
        assert "heartbeat" in " ".join(worker["healthcheck"]["test"])
        for process in (api, worker):
            depends = process["depends_on"]
            assert {"mongodb", "rabbitmq", "redis"} <= set(depends)
            assert all(condition["condition"] == "service_healthy" for condition in depends.values())


def test_infrastructure_is_real_and_checked() -> None:
    services = compose()
    assert "--replSet" in services["mongodb"]["command"]
    assert "management" in services["rabbitmq"]["image"]
    for name in ("mongodb", "rabbitmq", "redis", "mailcatcher"):
        assert services[name]["healthcheck"]["test"], name
    assert services["enrollment-api"]["environment"]["SMTP_HOST"] == "mailcatcher"


def test_kubernetes_manifests_have_a_deployment_per_process() -> None:
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "jijiao.yaml").read_text()))
    deployments = {doc["metadata"]["name"] for doc in docs if doc["kind"] == "Deployment"}
    assert deployments == {f"{name}-{kind}" for name in SERVICES for kind in ("api", "worker")}
    services = {doc["metadata"]["name"] for doc in docs if doc["kind"] == "Service"}
    assert services == {f"{name}-api" for name in SERVICES}
