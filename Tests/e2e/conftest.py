"""End-to-end fixtures: run the real `souk` binary on a free port with a temp data dir.

The binary is $SOUK_BIN (CI sets it to the static release build), else the debug build.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SOUK_BIN = os.environ.get("SOUK_BIN", str(ROOT / ".build" / "debug" / "souk"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Souk:
    """One running `souk serve` plus helpers to call its API and its CLI on the same data dir."""

    def __init__(self, workdir: Path, env_overrides: dict, config_text: str | None):
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / "souk-data"
        self.env = {
            **os.environ,
            "SOUK_SERVER_PORT": str(self.port),
            "SOUK_STORAGE_DATA_DIR": str(self.data_dir),
            "SOUK_AUTH_BCRYPT_COST": "4",  # fast hashing in tests; production default is 12
            **{k: str(v) for k, v in env_overrides.items()},
        }
        self.config_path = None
        if config_text is not None:
            self.config_path = workdir / "souk.toml"
            self.config_path.write_text(config_text)
        self.log_path = workdir / "serve.log"
        self.process = None

    def start(self):
        args = [SOUK_BIN, "serve"] + (["--config", str(self.config_path)] if self.config_path else [])
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            args, cwd=self.workdir, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"souk exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"souk did not become healthy:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() not in (None, 0):
            # It ended by itself (a crash, unless the test killed it): keep the evidence in the
            # test's report. Swift prints a fatal error's backtrace into this log.
            lines = self.log_path.read_text(errors="replace").splitlines()
            sys.stderr.write(f"souk exited by itself with status {self.process.returncode}; the end of "
                             f"{self.log_path}:\n" + "\n".join(lines[-60:]) + "\n")
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `souk ARGS` against the same data dir (and config file, if any)."""
        extra = ["--config", str(self.config_path)] if self.config_path else []
        result = subprocess.run(
            [SOUK_BIN, *args, *extra], cwd=self.workdir, env=self.env, input=input, capture_output=True, text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"souk {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def register(self, email: str, password: str = "correct horse", name: str = "Test User", role: str = "buyer"):
        """Signs up through the API; returns a requests.Session holding the session cookie."""
        session = requests.Session()
        response = session.post(
            self.url("/api/v1/auth/register"), json={"email": email, "password": password, "name": name, "role": role}
        )
        assert response.status_code == 201, response.text
        return session


@pytest.fixture
def make_souk(tmp_path):
    """Factory: make_souk(env={...}, config="toml text") starts a server; all are stopped after the test."""
    started = []

    def factory(env: dict | None = None, config: str | None = None, workdir: Path | None = None) -> Souk:
        directory = workdir or Path(tempfile.mkdtemp(dir=tmp_path))
        souk = Souk(directory, env or {}, config).start()
        started.append(souk)
        return souk

    yield factory
    for souk in started:
        souk.stop()


@pytest.fixture
def souk(make_souk) -> Souk:
    """A fresh store with default settings (test payments, marketplace off)."""
    return make_souk()


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running CLI commands without a server, on a store `souk migrate` created
    (no other command creates one)."""
    env = {**os.environ, "SOUK_STORAGE_DATA_DIR": str(tmp_path / "souk-data"), "SOUK_AUTH_BCRYPT_COST": "4"}
    subprocess.run([SOUK_BIN, "migrate"], env=env, check=True, capture_output=True)
    return env


# --- helpers shared by the test files -------------------------------------------------------------

import re  # noqa: E402
import shutil  # noqa: E402

CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The hidden `_csrf` value of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, "no _csrf field on the page"
    return match.group(1)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status (and code); returns the parsed body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    assert response.headers.get("Content-Type", "").startswith("application/problem+json"), response.headers
    body = response.json()
    for field in ("type", "title", "status", "detail", "code"):
        assert field in body, f"problem lacks {field}: {body}"
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def json_post(session, url, payload):
    return session.post(url, json=payload)


@pytest.fixture
def browser():
    """Headless Chromium driven by selenium (needs the `chromium` and `chromium-driver` packages)."""
    yield from chromium(javascript=True)


@pytest.fixture
def browser_without_javascript():
    """The same browser with JavaScript switched off: what the store must work without."""
    yield from chromium(javascript=False)


def chromium(javascript: bool):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver_path).exists():
        pytest.skip("chromedriver is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    binary = shutil.which("chromium")
    if binary:
        options.binary_location = binary
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


# --- browser artifacts of failed tests -----------------------------------------------------------

BROWSER_FIXTURES = ("browser", "browser_without_javascript")


def artifacts_dir() -> Path:
    """Where failed browser tests leave their screenshot and page source: $SOUK_SCREENSHOT_DIR,
    else `test-artifacts/` at the repository root (ignored by git)."""
    return Path(os.environ.get("SOUK_SCREENSHOT_DIR") or ROOT / "test-artifacts")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test that uses a selenium browser fails, saves a PNG screenshot and the page source of
    each of its browsers (they are still open: fixtures are torn down after this report) and names
    the files in the failure report."""
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    funcargs = getattr(item, "funcargs", None) or {}
    browsers = [(name, funcargs[name]) for name in BROWSER_FIXTURES if funcargs.get(name) is not None]
    if not browsers:
        return
    directory = artifacts_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")[:150]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    lines = []
    for name, driver in browsers:
        screenshot = directory / f"{stem}.{name}.{stamp}.png"
        source = directory / f"{stem}.{name}.{stamp}.html"
        try:
            url = driver.current_url
            saved = driver.save_screenshot(str(screenshot))
            source.write_text(f"<!-- {url} -->\n" + driver.page_source, encoding="utf-8")
        # A crashed browser (or a full disk) must not hide the test's own failure.
        except Exception as error:  # noqa: BLE001
            lines.append(f"{name}: could not save artifacts: {error!r}")
            continue
        lines.append(f"{name} at {url}")
        lines.append(f"  screenshot:  {screenshot}" + ("" if saved else " (failed)"))
        lines.append(f"  page source: {source}")
    text = "\n".join(lines)
    report.sections.append(("browser artifacts", text))
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line("")
        terminal.write_line(f"browser artifacts of {item.nodeid}:\n{text}")


def run_summaries() -> list[str]:
    """Figures a test wants in the CI log whatever the outcome (schemathesis case counts)."""
    module = sys.modules.get("test_openapi")
    return list(getattr(module, "RUN_SUMMARIES", []))


# Under pytest-xdist (CI runs the suite on two workers) each worker hands its figures to the
# controller, which prints them all at the end.
FROM_WORKERS: list[str] = []


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["souk_run_summaries"] = run_summaries()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    FROM_WORKERS.extend(getattr(node, "workeroutput", {}).get("souk_run_summaries", []))


def pytest_terminal_summary(terminalreporter):
    for line in run_summaries() + FROM_WORKERS:
        terminalreporter.write_line(line)
