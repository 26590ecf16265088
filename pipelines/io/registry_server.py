"""A local schema registry for ``--schema-registry``: Apicurio Registry, from Maven Central.

Confluent's own registry is not on Maven Central and Karapace is not on PyPI; Apicurio Registry
(Apache-2.0) is, as one tarball, and serves the Confluent-compatible REST API under
``/apis/ccompat/v7``. ``newsflow registry fetch`` downloads it into ``$NEWSFLOW_HOME/registry``
(checked against Maven Central's SHA-1), ``up`` starts it on 127.0.0.1 (in-memory storage, a
free port unless given one) and prints its URL, ``down`` stops it. It needs Java 21+:
``$NEWSFLOW_REGISTRY_JAVA`` or the newest JDK under ``/usr/lib/jvm``.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VERSION = "3.3.3"
ARTIFACT = f"apicurio-registry-app-{VERSION}-all.tar.gz"
MAVEN_URL = f"https://repo1.maven.org/maven2/io/apicurio/apicurio-registry-app/{VERSION}/{ARTIFACT}"
MIN_JAVA = 21
CCOMPAT_PATH = "/apis/ccompat/v7"


class RegistryError(RuntimeError):
    """An expected failure (no Java 21+, download failed, start timed out): one line for the user."""


@dataclass(frozen=True)
class RegistryHome:
    """Where the registry lives under ``$NEWSFLOW_HOME``."""

    root: Path

    @property
    def install_dir(self) -> Path:
        return self.root / "registry" / f"apicurio-{VERSION}"

    @property
    def state_file(self) -> Path:
        return self.root / "registry" / "running.json"

    @property
    def log_file(self) -> Path:
        return self.root / "registry" / "registry.log"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def find_runner(home: RegistryHome) -> Path | None:
    """The Quarkus runner jar of an installed registry, or None."""
    found = sorted(home.install_dir.glob("**/quarkus-run.jar")) or sorted(home.install_dir.glob("**/*-runner.jar"))
    return found[0] if found else None


def fetch(home: RegistryHome, url: str = MAVEN_URL) -> Path:
    """Download and unpack the registry once (about 160 MB); returns the runner jar."""
    runner = find_runner(home)
    if runner is not None:
        return runner
    home.install_dir.parent.mkdir(parents=True, exist_ok=True)
    tarball = home.install_dir.parent / ARTIFACT
    try:
        with urllib.request.urlopen(url + ".sha1", timeout=60) as resp:
            expected = resp.read().decode("ascii").split()[0].strip()
        if not tarball.exists() or _sha1(tarball) != expected:
            _progress(f"registry: downloading {url}")
            _download(url, tarball)
    except (urllib.error.URLError, OSError) as exc:
        raise RegistryError(f"cannot download the registry from {url}: {exc}") from exc
    if _sha1(tarball) != expected:
        raise RegistryError(f"{tarball} does not match Maven Central's SHA-1 {expected}; delete it and retry")
    partial = home.install_dir.with_name(home.install_dir.name + ".partial")
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="data")
    partial.rename(home.install_dir)
    tarball.unlink()
    runner = find_runner(home)
    if runner is None:
        raise RegistryError(f"no runner jar in {ARTIFACT}")
    return runner


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0)
        done, shown = 0, 0
        while chunk := resp.read(1 << 20):
            out.write(chunk)
            done += len(chunk)
            if total and done * 10 // total > shown:
                shown = done * 10 // total
                _progress(f"registry: {done >> 20} of {total >> 20} MB")
    tmp.rename(dest)


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def java_major(java: str) -> int | None:
    """The major version of a ``java`` binary (``-version`` output), or None if it does not run."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java(env_java: str | None = None, jvm_root: str = "/usr/lib/jvm") -> str:
    """A Java 21+ binary: ``env_java`` (``$NEWSFLOW_REGISTRY_JAVA``, a binary or a JDK folder) when
    set, else the newest one under ``jvm_root``, else ``java`` on the PATH."""
    if env_java:
        java = str(Path(env_java) / "bin" / "java") if Path(env_java).is_dir() else env_java
        major = java_major(java)
        if major is None or major < MIN_JAVA:
            raise RegistryError(f"NEWSFLOW_REGISTRY_JAVA={env_java} is not Java {MIN_JAVA}+ "
                                f"(found {major or 'nothing runnable'})")
        return java
    candidates = [path for path in glob.glob(os.path.join(jvm_root, "*", "bin", "java")) if os.path.isfile(path)]
    candidates.append("java")
    versions = [(java_major(java) or 0, java) for java in candidates]
    best = max(versions, key=lambda item: item[0])
    if best[0] < MIN_JAVA:
        raise RegistryError(f"the schema registry needs Java {MIN_JAVA}+ (found at most Java {best[0] or 'none'}); "
                            f"install one (apt-get install openjdk-21-jre-headless) or set NEWSFLOW_REGISTRY_JAVA")
    return best[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_ready(url: str) -> bool:
    """True when the registry's Confluent-compatible API answers."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/subjects", timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start(home: RegistryHome, java: str, port: int | None = None, timeout_s: float = 600.0,
          log_file: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start the registry on 127.0.0.1 (in-memory storage) and wait until it answers; returns the
    process and its Confluent-compatible URL. Quarkus takes a minute or two on a loaded machine."""
    runner = find_runner(home)
    if runner is None:
        raise RegistryError("the registry is not installed: run `newsflow registry fetch` first")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}{CCOMPAT_PATH}"
    log_file = log_file or home.log_file
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [java, "-Xmx512m", "-XX:TieredStopAtLevel=1", f"-Dquarkus.http.port={port}",
             "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.management.enabled=false",
             "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2",
             "-jar", str(runner)], stdout=log, stderr=subprocess.STDOUT, cwd=str(runner.parent),
            start_new_session=True)
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 15
    while not is_ready(url):
        if proc.poll() is not None:
            raise RegistryError(f"the registry exited with code {proc.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            stop_process(proc)
            raise RegistryError(f"the registry did not answer within {timeout_s:.0f} s; see {log_file}")
        if time.monotonic() > next_note:
            _progress("registry: still starting…")
            next_note = time.monotonic() + 15
        time.sleep(1)
    return proc, url


def stop_process(proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def up(home: RegistryHome, java: str, port: int | None = None) -> str:
    """Start a background registry (one per home) and remember its pid; returns its URL."""
    state = read_state(home)
    if state and is_ready(state["url"]):
        return state["url"]
    proc, url = start(home, java, port)
    home.state_file.write_text(json.dumps({"pid": proc.pid, "url": url}))
    return url


def down(home: RegistryHome) -> bool:
    """Stop the registry ``up`` started; False when none was running."""
    state = read_state(home)
    if not state:
        return False
    home.state_file.unlink()
    try:
        os.kill(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def read_state(home: RegistryHome) -> dict | None:
    try:
        return json.loads(home.state_file.read_text())
    except (OSError, ValueError):
        return None
