"""deploy/k8s: every manifest is valid Kubernetes, and the manifests agree with each other, with
the image and with the services (ports, probes, labels, selectors, hardening)."""

import re
from pathlib import Path

import pytest
from kubernetes_validate.utils import validate

from tests.deploy.artefacts import (
    K8S,
    KUBERNETES_VERSIONS,
    SERVICES,
    Manifest,
    ServiceSpec,
    kustomizations,
    manifest_files,
    manifests,
    manifests_of,
    one,
    pod_template,
    selects,
    workloads,
)

IMAGE = "signpost"
IMAGE_USER = 10001  # the USER of deploy/Dockerfile's final stage
# Settings whose values are credentials (a database URL carries its password).
SENSITIVE = re.compile(r"(DATABASE_URL|SECRET|PASSWORD|_API_TOKEN|_KEY)$")


def _ids(manifest: Manifest) -> str:
    return manifest.label


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("manifest", manifests(), ids=_ids)
def test_manifest_is_valid_against_the_kubernetes_schema(manifest: Manifest, version: str) -> None:
    # strict: unknown fields (a misspelt `readinesProbe`) are errors, not silently dropped.
    validate(manifest.body, version, strict=True)


def test_every_kustomization_lists_exactly_the_manifests_beside_it() -> None:
    listed_anywhere: set[Path] = set()
    for path, kustomization in kustomizations().items():
        folder = path.parent
        resources = {(folder / name).resolve() for name in kustomization["resources"]}
        assert all(resource.is_file() for resource in resources), path
        beside = {p.resolve() for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
        assert resources == beside, f"{path} does not list {sorted(beside - resources)}"
        assert kustomization["namespace"] == "signpost"
        listed_anywhere |= resources
    optional = {p.resolve() for p in (K8S / "optional").glob("*.yaml")}
    assert {p.resolve() for p in manifest_files()} == listed_anywhere | optional


def test_migration_jobs_deploy_the_same_image_as_the_services() -> None:
    image_settings = [k["images"] for k in kustomizations().values()]
    assert len(image_settings) == 2
    assert image_settings[0] == image_settings[1]
    assert [image["name"] for image in image_settings[0]] == [IMAGE]
    for workload in workloads():
        for container in pod_template(workload)["spec"]["containers"]:
            assert container["image"] == IMAGE, workload.label


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_has_its_deployment_service_autoscaler_budget_and_migration_job(
    service: ServiceSpec,
) -> None:
    deployment = one("Deployment", service.app)
    container = _only_container(deployment)
    assert container["args"] == [service.name, "serve"]
    assert container["ports"] == [
        {"name": "http", "containerPort": service.port, "protocol": "TCP"}
    ]

    job = one("Job", f"{service.name}-migrate")
    assert _only_container(job)["args"] == [service.name, "migrate"]
    assert job.path.parent == K8S / "migrate"
    assert pod_template(job)["spec"]["restartPolicy"] == "Never"

    for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount"):
        one(kind, service.app)
    assert one("ConfigMap", f"signpost-{service.name}")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_probes_check_ping_for_liveness_and_status_for_readiness_on_the_service_port(
    service: ServiceSpec,
) -> None:
    container = _only_container(one("Deployment", service.app))
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    expected = {"startupProbe": "/_ping", "livenessProbe": "/_ping", "readinessProbe": "/_status"}
    for probe, path in expected.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == service.port, probe


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_autoscaler_and_budget_select_the_deployment_pods(service: ServiceSpec) -> None:
    deployment = one("Deployment", service.app)
    labels = pod_template(deployment)["metadata"]["labels"]
    assert deployment.body["spec"]["selector"]["matchLabels"].items() <= labels.items()

    kube_service = one("Service", service.app).body["spec"]
    assert selects(kube_service["selector"], labels)
    assert [p["targetPort"] for p in kube_service["ports"]] == ["http"]
    others = [m for m in manifests_of("Deployment") if m.name != service.app]
    assert not any(
        selects(kube_service["selector"], pod_template(m)["metadata"]["labels"]) for m in others
    )

    autoscaler = one("HorizontalPodAutoscaler", service.app).body["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service.app,
    }
    assert autoscaler["minReplicas"] == deployment.body["spec"]["replicas"] == 2
    assert autoscaler["maxReplicas"] > autoscaler["minReplicas"]

    budget = one("PodDisruptionBudget", service.app).body["spec"]
    assert selects(budget["selector"], labels)
    # Leaves room to evict one pod at the minimum replica count.
    assert budget["minAvailable"] < autoscaler["minReplicas"]


@pytest.mark.parametrize("workload", workloads(), ids=_ids)
def test_pods_run_as_the_image_user_without_privileges_on_a_read_only_root(
    workload: Manifest,
) -> None:
    pod = pod_template(workload)["spec"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == IMAGE_USER
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    one("ServiceAccount", pod["serviceAccountName"])
    mounted = set()
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]
        mounted |= {mount["mountPath"] for mount in container.get("volumeMounts", [])}
    # Python, uvicorn and the Prometheus client need a writable /tmp.
    assert "/tmp" in mounted  # noqa: S108


def test_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = one("Namespace", "signpost").body["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_no_secret_is_committed_and_sensitive_variables_come_from_secrets() -> None:
    assert manifests_of("Secret") == []
    for workload in workloads():
        for container in pod_template(workload)["spec"]["containers"]:
            for variable in container.get("env", []):
                if SENSITIVE.search(variable["name"]):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), variable["name"]
    for config_map in manifests_of("ConfigMap"):
        assert not [key for key in config_map.body["data"] if SENSITIVE.search(key)]


def test_every_config_map_a_pod_reads_exists() -> None:
    names = {m.name for m in manifests_of("ConfigMap")}
    for workload in workloads():
        for container in pod_template(workload)["spec"]["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in names, workload.label


# --- NetworkPolicies --------------------------------------------------------------------------


def _pod_labels() -> dict[str, dict[str, str]]:
    return {m.name: pod_template(m)["metadata"]["labels"] for m in workloads()}


def _policies_selecting(workload: str, policy_type: str) -> list[dict]:
    labels = _pod_labels()[workload]
    return [
        p.body["spec"]
        for p in manifests_of("NetworkPolicy")
        if policy_type in p.body["spec"]["policyTypes"]
        and selects(p.body["spec"]["podSelector"], labels)
    ]


def test_all_traffic_is_denied_unless_a_policy_allows_it() -> None:
    deny = one("NetworkPolicy", "default-deny-all").body["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_network_policy_selects_some_pod() -> None:
    for policy in manifests_of("NetworkPolicy"):
        selector = policy.body["spec"]["podSelector"]
        assert any(selects(selector, labels) for labels in _pod_labels().values()), policy.label


@pytest.mark.parametrize("workload", [m.name for m in workloads()])
def test_every_pod_may_resolve_names_and_reach_postgresql(workload: str) -> None:
    egress_ports = {
        (port["protocol"], port["port"])
        for policy in _policies_selecting(workload, "Egress")
        for rule in policy.get("egress", [])
        for port in rule.get("ports", [])
    }
    assert {("UDP", 53), ("TCP", 53), ("TCP", 5432)} <= egress_ports


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_ingress_controller_reaches_each_service_on_its_port(service: ServiceSpec) -> None:
    sources = [
        (peer, port["port"])
        for policy in _policies_selecting(service.app, "Ingress")
        for rule in policy.get("ingress", [])
        for peer in rule["from"]
        for port in rule["ports"]
    ]
    controller = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }
    assert (controller, "http") in sources


def test_screening_api_may_call_referral_api_and_nothing_else_may_call_across() -> None:
    screening = _pod_labels()["screening-api"]
    referral_ingress = [
        peer["podSelector"]
        for policy in _policies_selecting("referral-api", "Ingress")
        for rule in policy.get("ingress", [])
        for peer in rule["from"]
        if "podSelector" in peer
    ]
    assert referral_ingress and all(selects(s, screening) for s in referral_ingress)
    screening_egress = [
        peer["podSelector"]
        for policy in _policies_selecting("screening-api", "Egress")
        for rule in policy.get("egress", [])
        for peer in rule["to"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    ]
    assert screening_egress == [{"matchLabels": {"app.kubernetes.io/name": "referral-api"}}]
    for other in ("directory-api", "screening-api"):
        peers = [
            peer
            for policy in _policies_selecting(other, "Ingress")
            for rule in policy.get("ingress", [])
            for peer in rule["from"]
            if "podSelector" in peer
        ]
        assert peers == [], other


def test_migration_jobs_accept_no_inbound_traffic() -> None:
    for job in manifests_of("Job") + manifests_of("CronJob"):
        allowed = [p for p in _policies_selecting(job.name, "Ingress") if p.get("ingress")]
        assert allowed == [], job.label


def test_held_messages_are_expired_daily_by_referral_api_one_run_at_a_time() -> None:
    cron = one("CronJob", "referral-expire-held")
    minute, hour, day, month, weekday = cron.body["spec"]["schedule"].split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    assert cron.body["spec"]["concurrencyPolicy"] == "Forbid"
    container = _only_container(cron)
    assert container["args"] == ["referral", "expire-held"]
    assert pod_template(cron)["spec"]["restartPolicy"] == "Never"
    service = _only_container(one("Deployment", "referral-api"))
    assert container["envFrom"] == service["envFrom"]
    assert container["env"] == [
        variable for variable in service["env"] if variable["name"].startswith("REFERRAL_")
    ]


def _only_container(workload: Manifest) -> dict:
    containers = pod_template(workload)["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])
