"""deploy/: the Compose file, the Kubernetes manifests and the Dockerfile name what exists.

No Docker engine or Kubernetes cluster runs here, so these tests check what can be checked
without one: every file parses; the Kubernetes objects are valid against the API's own schemas;
every `newsflow` command line in them (and in docs/deploy.md) is accepted by the real CLI's
parsers; the workers' shares cover every partition once; the folders the commands write are
mounted volumes; the probes judge the health file the run writes; images, versions and
environment variables are the ones the project builds and reads.
"""
import contextlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import pytest
import yaml

from pipelines import __version__, cli, health
from pipelines.io.feeds import cli as feeds_cli
from pipelines.io.kafka_source import owns, parse_worker
from pipelines.io.topics import CONTRACT_TOPICS
from pipelines.pipeline import demo, launch, options, replay

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
IMAGE = f"newsflow:{__version__}"
POD_INDEX_LABEL = "metadata.labels['apps.kubernetes.io/pod-index']"
# The first Kubernetes release with the pod-index label in GA, and the newest schema at hand.
K8S_VERSIONS = ("1.32.0", "1.37.0")


# ---------------------------------------------------------------- reading the files

def k8s_objects() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    return found


def k8s_object(kind: str, name: str) -> dict:
    (obj,) = [o for _, o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> its instructions ``(KEYWORD, rest)``, continuation lines joined."""
    stages, current, pending = {}, None, ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        pending = ""
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            current = rest.split()[-1] if " AS " in rest.upper() else rest
            stages[current] = [(keyword, rest)]
        else:
            stages[current].append((keyword, rest))
    return stages


def instruction(stage: str, keyword: str):
    values = [rest for k, rest in dockerfile_stages()[stage] if k == keyword]
    return yaml.safe_load(values[-1]) if values else None  # ENTRYPOINT/CMD are JSON arrays


def containers(pod_spec: dict) -> list[dict]:
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def workloads() -> list[dict]:
    return [o for _, o in k8s_objects() if o["kind"] in ("StatefulSet", "Deployment")]


def config_map_env() -> dict[str, str]:
    return {k: v for k, v in k8s_object("ConfigMap", "newsflow-config")["data"].items() if re.fullmatch(r"\w+", k)}


def container_env(container: dict) -> dict[str, str]:
    """The container's variables with a known value (envFrom the ConfigMap, env with a value)."""
    env = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == "newsflow-config"
        env.update(config_map_env())
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' own $(VAR) expansion of command and args."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), arg) for arg in args]


def k8s_argv(container: dict, env: dict[str, str] | None = None) -> list[str]:
    """What the container runs: Kubernetes' rules for command/args over the image's ENTRYPOINT/CMD."""
    entrypoint, cmd = (instruction("newsflow", "ENTRYPOINT"), instruction("newsflow", "CMD")) \
        if container["image"] == IMAGE else (None, None)
    if "command" in container:
        argv = container["command"] + container.get("args", [])
    else:
        argv = (entrypoint or []) + container.get("args", cmd or [])
    return expand(argv, {**container_env(container), **(env or {})})


def compose_argv(service: dict) -> list[str]:
    entrypoint = service.get("entrypoint", instruction("newsflow", "ENTRYPOINT") if service["image"] == IMAGE else None)
    command = service.get("command", instruction("newsflow", "CMD") if "entrypoint" not in service else [])
    return list(entrypoint or []) + list(command or [])


def newsflow_args(argv: list[str]) -> list[str]:
    """``[tini, --, newsflow, ARGS...]`` or ``[newsflow, ARGS...]`` -> ARGS; else AssertionError."""
    if argv[:2] == ["/usr/bin/tini", "--"]:
        argv = argv[2:]
    assert argv and argv[0] == "newsflow", f"not a newsflow command: {argv}"
    return argv[1:]


def flag(argv: list[str], name: str) -> str | None:
    """The value of ``--name V`` / ``--name=V`` in argv, or None."""
    for i, arg in enumerate(argv):
        if arg == name:
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


# ---------------------------------------------------------------- the real CLI, without running anything

@contextlib.contextmanager
def refused_as_failure(argv):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            yield
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise AssertionError(f"`newsflow {' '.join(argv)}` is refused: {err.getvalue().strip()}") from None
    except launch.UnknownFlags as exc:
        raise AssertionError(f"`newsflow {' '.join(argv)}` is refused: {exc}") from None


def parse_newsflow(args: list[str]):
    """(command, parsed flags) as `newsflow ARGS` would parse them; AssertionError if it would refuse them.

    The delegated commands are parsed by their own parsers, as ``pipelines.cli.main`` delegates;
    ``run`` as its launcher does: Beam's and newsflow's flags together, unknown ones refused.
    """
    command = parsed = None  # stay None for a top-level --help
    with refused_as_failure(args):
        top, rest = cli.build_parser().parse_known_args(args)
        command = top.command
        assert command, f"no newsflow command in {args}"
        tail = args[args.index(command) + 1:]
        if command == "run":
            _, beam_argv = launch.split_log_flags(tail)
            launch.check_beam_flags(beam_argv)
            parsed, _ = options.run_help_parser().parse_known_args(tail)
        elif command == "feeds":
            parsed = feeds_cli.build_parser().parse_args(tail)
        elif command == "health":
            parsed = health.build_parser().parse_args(tail)
        elif command in ("replay", "demo"):
            parsed = (replay if command == "replay" else demo).build_parser().parse_args(tail)
        elif command == "eval":
            raise AssertionError("no deployment runs `newsflow eval`")
        else:
            parsed = cli.build_parser().parse_args(args)
    return command, parsed


def newsflow_commands() -> list[tuple[str, list[str]]]:
    """Every newsflow command line in deploy/: (where, ARGS), $(POD_INDEX) as ordinal 0."""
    found = []
    cmd = instruction("newsflow", "CMD")
    found.append(("Dockerfile CMD", cmd))
    for name, service in compose()["services"].items():
        if service["image"] == IMAGE:
            found.append((f"compose {name}", newsflow_args(compose_argv(service))))
            if "healthcheck" in service:
                test = service["healthcheck"]["test"]
                assert test[0] == "CMD", f"compose {name}: healthcheck not in exec form"
                found.append((f"compose {name} healthcheck", newsflow_args(test[1:])))
    for workload in workloads():
        for container in containers(workload["spec"]["template"]["spec"]):
            if container["image"] != IMAGE:
                continue
            where = f"{workload['metadata']['name']}/{container['name']}"
            found.append((where, newsflow_args(k8s_argv(container, {"POD_INDEX": "0"}))))
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    found.append((f"{where} {probe}", newsflow_args(container[probe]["exec"]["command"])))
    return found


def test_the_commands_are_found():
    """The tests below check what this finds: it must find the commands the deployment runs."""
    commands = {args[0] for _, args in newsflow_commands() if args and not args[0].startswith("-")}
    assert {"run", "feeds", "health"} <= commands


@pytest.mark.parametrize("where,args", newsflow_commands(), ids=[w for w, _ in newsflow_commands()])
def test_every_newsflow_command_and_flag_exists_in_the_cli(where, args):
    parse_newsflow(args)


def test_a_flag_the_cli_lacks_is_caught():
    """The check above is not vacuous: a misspelt flag of each kind of command is refused."""
    for args in (["run", "--health-fil=/x"], ["run", "--runner=FlinkRunner", "--flink_mastr=x:8081"],
                 ["feeds", "--opml-file=x"], ["health", "--file=x", "--max-agee=3"], ["runn"]):
        with pytest.raises(AssertionError, match="refused"):
            parse_newsflow(args)


# ---------------------------------------------------------------- the files themselves

def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert COMPOSE in files and len(files) >= 5
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs and all(isinstance(d, dict) for d in docs), path


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_objects_are_valid_against_the_api_schemas(version):
    import kubernetes_validate

    objects = k8s_objects()
    assert {o["kind"] for _, o in objects} >= {"ConfigMap", "Service", "StatefulSet", "Deployment"}
    for name, obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{name}: {obj['kind']} {obj['metadata']['name']}: {exc}") from None


def test_kubernetes_manifests_name_no_namespace_and_kustomize_lists_them_all():
    assert [(n, o["metadata"]["name"]) for n, o in k8s_objects() if "namespace" in o["metadata"]] == []
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "namespace" not in kustomization
    assert sorted(kustomization["resources"]) == sorted(p.name for p in K8S.glob("*.yaml")
                                                        if p.name != "kustomization.yaml")
    assert kustomization["images"] == [{"name": "newsflow", "newTag": __version__}]


def test_newsflow_images_are_the_one_the_dockerfile_builds():
    named = [service["image"] for service in compose()["services"].values()]
    named += [c["image"] for w in workloads() for c in containers(w["spec"]["template"]["spec"])]
    ours = [image for image in named if image.split(":")[0] == "newsflow"]
    assert ours and set(ours) == {IMAGE}
    stages = dockerfile_stages()
    for service in compose()["services"].values():
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DOCKERFILE
            assert service["build"]["target"] in stages


def test_the_image_runs_newsflow_under_tini():
    assert instruction("newsflow", "ENTRYPOINT") == ["/usr/bin/tini", "--", "newsflow"]
    run_steps = " ".join(rest for k, rest in dockerfile_stages()["base"] if k == "RUN")
    assert "install -y --no-install-recommends tini" in run_steps
    assert "--require-hashes -r requirements/model.txt" in run_steps


# ---------------------------------------------------------------- workers and their shares

def worker_statefulset() -> dict:
    return k8s_object("StatefulSet", "newsflow-worker")


def run_container(workload: dict) -> dict:
    (container,) = [c for c in workload["spec"]["template"]["spec"]["containers"]
                    if newsflow_args(k8s_argv(c, {"POD_INDEX": "0"}))[0] == "run"]
    return container


def test_statefulset_ordinal_is_the_worker_index_and_replicas_the_worker_count():
    workers = worker_statefulset()
    replicas = workers["spec"]["replicas"]
    container = run_container(workers)
    (pod_index,) = [e for e in container["env"] if e["name"] == "POD_INDEX"]
    assert pod_index["valueFrom"]["fieldRef"]["fieldPath"] == POD_INDEX_LABEL
    assert "ordinals" not in workers["spec"], "the ordinal must start at 0 to be the worker index"
    assert workers["spec"]["podManagementPolicy"] == "Parallel"
    raw = flag(container["args"], "--worker")
    assert raw is not None and "$(POD_INDEX)" in raw
    shares = [parse_worker(flag(newsflow_args(k8s_argv(container, {"POD_INDEX": str(i)})), "--worker"))
              for i in range(replicas)]
    assert {count for _, count in shares} == {replicas}, f"--worker {raw} with {replicas} replicas"
    for partition in range(4 * replicas):
        assert sum(owns(partition, share) for share in shares) == 1


def compose_runs() -> dict[str, list[str]]:
    return {name: newsflow_args(compose_argv(s)) for name, s in compose()["services"].items()
            if s["image"] == IMAGE and newsflow_args(compose_argv(s))[0] == "run"}


def test_compose_workers_take_every_share_once():
    shares = [parse_worker(flag(args, "--worker")) for args in compose_runs().values()]
    assert len(shares) >= 2
    assert {count for _, count in shares} == {len(shares)}
    assert sorted(index for index, _ in shares) == list(range(len(shares)))


def topic_scripts() -> list[tuple[str, str]]:
    """(where, shell script) of every container that creates the topics with kafka-topics.sh."""
    found = [(f"compose {name}", s["command"][-1]) for name, s in compose()["services"].items()
             if "kafka-topics.sh" in str(s.get("command"))]
    for workload in workloads():
        found += [(workload["metadata"]["name"], c["command"][-1]) for c in containers(workload["spec"]["template"]["spec"])
                  if "kafka-topics.sh" in str(c.get("command"))]
    return found


def test_topics_are_created_with_a_partition_for_every_worker_process():
    scripts = topic_scripts()
    assert {where.split()[0] for where, _ in scripts} >= {"compose", "newsflow-worker", "newsflow-feeds"}
    partitions = set()
    for where, script in scripts:
        assert re.search(r"for topic in (.+?); do", script).group(1).split() == list(CONTRACT_TOPICS), where
        assert "--if-not-exists" in script, where
        partitions.add(int(re.search(r"--partitions (\d+)", script).group(1)))
    (count,) = partitions
    workers = worker_statefulset()
    k8s_processes = int(flag(run_container(workers)["args"], "--processes"))
    assert workers["spec"]["replicas"] * k8s_processes <= count
    assert sum(int(flag(args, "--processes")) for args in compose_runs().values()) <= count


def test_the_newsflow_pods_find_the_topic_script_broker_in_their_config():
    for workload in workloads():
        for container in containers(workload["spec"]["template"]["spec"]):
            if "kafka-topics.sh" in str(container.get("command")):
                assert '"$NEWSFLOW_BOOTSTRAP_SERVERS"' in container["command"][-1]
                assert "NEWSFLOW_BOOTSTRAP_SERVERS" in container_env(container)


def test_worker_processes_match_the_cpu_they_request():
    container = run_container(worker_statefulset())
    assert int(flag(container["args"], "--processes")) == int(container["resources"]["requests"]["cpu"])


# ---------------------------------------------------------------- volumes

def covered(path: str, mounts: list[str]) -> str | None:
    """The mount point that holds ``path``, or None."""
    for mount in mounts:
        if PurePosixPath(path) == PurePosixPath(mount) or PurePosixPath(mount) in PurePosixPath(path).parents:
            return mount
    return None


def written_folders(args: list[str]) -> dict[str, str]:
    """What a command writes (or reads from its deployment) and must be mounted: name -> path."""
    command, parsed = parse_newsflow(args)
    if command == "run":
        assert parsed.avro_dir.startswith("/") and parsed.health_file, f"run {args}: give --avro-dir and --health-file"
        return {"avro": parsed.avro_dir, "health": str(PurePosixPath(parsed.health_file).parent)}
    if command == "feeds":
        return {"state": parsed.state_dir, **{f"opml {i}": path for i, path in enumerate(parsed.opml)}}
    return {}


def test_kubernetes_mounts_cover_what_the_commands_write():
    seen = set()
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            if container["image"] != IMAGE:
                continue
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            for what, path in written_folders(newsflow_args(k8s_argv(container, {"POD_INDEX": "0"}))).items():
                mount = covered(path, list(mounts))
                assert mount, f"{workload['metadata']['name']}: {what} {path} is not on a volume"
                volume = mounts[mount]
                seen.add(what)
                if what in ("avro", "state"):  # durable: a claim of its own
                    assert volume in claims or "persistentVolumeClaim" in volumes.get(volume, {}), (what, volume)
                elif what == "health":  # lives and dies with the pod
                    assert "emptyDir" in volumes[volume]
                else:
                    assert "configMap" in volumes[volume]
    assert {"avro", "health", "state", "opml 0"} <= seen


def test_compose_mounts_cover_what_the_commands_write():
    seen = set()
    services = compose()["services"]
    for name, service in services.items():
        if service["image"] != IMAGE:
            continue
        mounts = {}
        for spec in service.get("volumes", []):
            source, target = spec.split(":")[:2]
            mounts[target] = source
        for what, path in written_folders(newsflow_args(compose_argv(service))).items():
            if what == "health":
                continue  # in the container's own writable layer; the image makes the folder
            mount = covered(path, list(mounts))
            assert mount, f"compose {name}: {what} {path} is not on a volume"
            source = mounts[mount]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"compose {name}: bind source {source} missing"
            else:
                assert source in compose()["volumes"], f"compose {name}: volume {source} not declared"
            seen.add(what)
    assert {"avro", "state", "opml 0"} <= seen


def test_the_image_makes_the_folders_it_is_given():
    made = " ".join(rest for k, rest in dockerfile_stages()["base"] if k == "RUN")
    for args in [a for _, a in newsflow_commands() if a and a[0] in ("run", "feeds")]:
        for what, path in written_folders(args).items():
            if not what.startswith("opml"):
                assert path in made, f"the image does not create {path} ({what}) for its user"


def test_the_poller_reads_the_same_feeds_in_compose_and_kubernetes():
    opml = k8s_object("ConfigMap", "newsflow-config")["data"]["feeds.opml"]
    from_config = [o.get("xmlUrl") for o in ElementTree.fromstring(opml.encode()).iter("outline") if o.get("xmlUrl")]
    assert from_config and from_config == feeds_cli.read_opml(DEPLOY / "feeds.opml")


# ---------------------------------------------------------------- probes

def health_checks() -> list[tuple[str, list[str], list[str]]]:
    """(where, the run's ARGS, the probe's health ARGS) of every probe and healthcheck."""
    found = []
    for name, service in compose()["services"].items():
        if "healthcheck" in service and service["image"] == IMAGE:
            found.append((f"compose {name}", newsflow_args(compose_argv(service)),
                          newsflow_args(service["healthcheck"]["test"][1:])))
    for workload in workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if container["image"] != IMAGE:
                continue
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    found.append((f"{workload['metadata']['name']} {probe}",
                                  newsflow_args(k8s_argv(container, {"POD_INDEX": "0"})),
                                  newsflow_args(container[probe]["exec"]["command"])))
    return found


def test_every_worker_has_probes_and_healthchecks():
    container = run_container(worker_statefulset())
    assert [p for p in ("startupProbe", "readinessProbe", "livenessProbe") if p in container] == [
        "startupProbe", "readinessProbe", "livenessProbe"]
    assert all("healthcheck" in compose()["services"][name] for name in compose_runs())


def test_probes_judge_the_health_file_the_run_writes():
    checks = health_checks()
    assert len(checks) >= 5
    for where, run_args, probe_args in checks:
        command, probe = parse_newsflow(probe_args)
        _, run = parse_newsflow(run_args)
        assert command == "health", where
        assert probe.file == run.health_file, f"{where}: probes {probe.file}, the run writes {run.health_file}"
        # The run rewrites the file about once a second, but only once per --relist-seconds while
        # it waits for a partition of its own; and a probe must not kill a run that restarts its pipeline.
        assert probe.max_age >= max(30.0, 2 * run.relist_seconds), where
        assert probe.ready == (not where.endswith("livenessProbe")), where


# ---------------------------------------------------------------- versions, ids, environment

def test_the_broker_is_the_kafka_newsflow_runs_locally():
    version = ElementTree.parse(DEPLOY / "kafka" / "pom.xml").find(
        ".//{http://maven.apache.org/POM/4.0.0}kafka.version").text
    images = [s["image"] for s in compose()["services"].values()]
    images += [c["image"] for w in workloads() for c in containers(w["spec"]["template"]["spec"])]
    kafka = {image for image in images if image.startswith("apache/kafka:")}
    assert kafka == {f"apache/kafka:{version}"}


def test_kraft_cluster_ids_are_valid():
    import base64

    ids = [compose()["services"]["kafka"]["environment"]["CLUSTER_ID"]]
    ids += [e["value"] for c in k8s_object("StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"]
            for e in c["env"] if e["name"] == "CLUSTER_ID"]
    assert len(ids) == 2
    for cluster_id in ids:
        assert len(cluster_id) == 22 and len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, cluster_id


def newsflow_env_names() -> set[str]:
    """Every NEWSFLOW_* variable that deploy/ sets."""
    names = set(config_map_env())
    for service in compose()["services"].values():
        names |= set(service.get("environment", {}))
    for workload in workloads():
        for container in containers(workload["spec"]["template"]["spec"]):
            names |= {e["name"] for e in container.get("env", [])}
    names |= set(re.findall(r"\b(NEWSFLOW_\w+)=", DOCKERFILE.read_text()))
    return {name for name in names if name.startswith("NEWSFLOW_")}


def test_the_environment_set_is_the_one_newsflow_reads():
    read = set(re.findall(r'os\.environ\.get\("(NEWSFLOW_\w+)"\)', (REPO / "pipelines" / "config.py").read_text()))
    assert {"NEWSFLOW_BOOTSTRAP_SERVERS", "NEWSFLOW_HOME"} <= read
    assert newsflow_env_names() and newsflow_env_names() <= read


def test_the_beam_sdk_image_matches_the_installed_beam_and_python():
    import apache_beam

    copies = [rest for k, rest in dockerfile_stages()["beam-sdk"] if k == "COPY"]
    (source,) = [re.search(r"--from=(\S+)", c).group(1) for c in copies if "--from=" in c]
    python, beam = re.fullmatch(r"apache/beam_python(\d+\.\d+)_sdk:(\S+)", source).groups()
    assert beam == apache_beam.__version__
    base = dockerfile_stages()["base"][0][1]
    assert base.startswith(f"python:{python}-"), base
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}"  # the tests run on the image's Python


# ---------------------------------------------------------------- the Dockerfile's build context

def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule for one path: the last matching pattern decides (``!`` re-includes)."""
    import fnmatch

    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        parts = PurePosixPath(path).parts
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if hit:
            result = not negate
    return result


def copied_sources() -> list[str]:
    sources = []
    for keyword, rest in dockerfile_stages()["base"]:
        if keyword == "COPY" and "--from=" not in rest:
            sources += rest.split()[:-1]
    return sources


def test_what_the_dockerfile_copies_exists_and_is_in_the_build_context():
    patterns = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = copied_sources()
    assert "pipelines/" in sources and "setup.py" in sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored(source.rstrip("/"), patterns), f"{source} is excluded by Dockerfile.dockerignore"
    assert ignored(".venv", patterns) and ignored("pipelines/__pycache__", patterns)


def test_what_the_dockerfile_copies_builds_the_package_with_its_resources(tmp_path):
    context = tmp_path / "context"
    for source in copied_sources():
        target = context / source
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / source, target)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(context)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = tmp_path.glob("newsflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pipelines/health.py", "pipelines/resources/schemas/enriched_article.avsc",
            "pipelines/resources/deploy/kafka/pom.xml", "pipelines/resources/seeds/articles.jsonl",
            "pipelines/resources/events/classifier.npz"} <= names


# ---------------------------------------------------------------- docs/deploy.md

def documented_commands() -> list[list[str]]:
    """Every `newsflow ...` command line in the code blocks of docs/deploy.md (continuations joined)."""
    import shlex

    text = (REPO / "docs" / "deploy.md").read_text()
    commands = []
    for language, block in re.findall(r"```(\w*)\n(.*?)```", text, re.S):
        if language not in ("sh", "bash", "console", ""):
            continue
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            # `newsflow ...`, or run in a container: `kubectl exec POD -- newsflow ...`, `compose exec SVC newsflow ...`
            found = re.search(r"(?:^|\s--\s|\sexec\s+[\w-]+\s)(newsflow\s.*)", line)
            if found:
                commands.append(shlex.split(found.group(1))[1:])
    return commands


def test_documented_commands_and_runner_flags_exist():
    commands = documented_commands()
    assert len(commands) >= 8 and {args[0] for args in commands} >= {"run", "publish", "consume", "health"}
    runners = {flag(args, "--runner") for args in commands if args[0] == "run"}
    assert {"FlinkRunner", "DataflowRunner"} <= runners
    for args in commands:
        parse_newsflow(args)
